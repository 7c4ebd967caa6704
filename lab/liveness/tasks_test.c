/* Tests of tasks_classify: how a task's wait is judged, from the call it is in,
 * its descriptors and its process's clocks; and the two proofs on views. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "lab/liveness/tasks.h"

static const struct tasks_conn CONN = { .inode = { 1001, 1002 } };

/* An asleep, native task in call nr on one descriptor. */
static struct tasks_task task_in(long nr, int type, uint32_t inode)
{
	struct tasks_task t;

	memset(&t, 0, sizeof(t));
	t.state = 'S';
	t.native_abi = true;
	t.call.nr = nr;
	t.call.args[0] = 3;
	t.n_fds = 1;
	t.fds_complete = true;
	t.fds[0].fd = 3;
	t.fds[0].type = type;
	t.fds[0].inode = inode;
	t.fds[0].options_known = true;
	return t;
}

static enum tasks_kind kind_of(const struct tasks_task *t, int *end)
{
	struct tasks_wait w;

	tasks_classify(t, &CONN, &w);
	if (end != NULL)
		*end = w.end;
	return w.kind;
}

static void test_send_on_the_connection_is_sending_on_that_end(void **state)
{
	struct tasks_task t = task_in(SYS_sendto, TASKS_FD_SOCKET, 1002);
	int end;

	(void)state;
	assert_int_equal(kind_of(&t, &end), TASKS_SENDING);
	assert_int_equal(end, 1);
	t.call.nr = SYS_write;
	t.fds[0].inode = 1001;
	assert_int_equal(kind_of(&t, &end), TASKS_SENDING);
	assert_int_equal(end, 0);
}

static void test_send_with_sndtimeo_or_elsewhere_proves_nothing(void **state)
{
	struct tasks_task t = task_in(SYS_sendto, TASKS_FD_SOCKET, 1001);

	(void)state;
	t.fds[0].sndtimeo_us = 500000;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t = task_in(SYS_sendto, TASKS_FD_SOCKET, 1001);
	t.fds[0].options_known = false; /* no pidfd: cannot tell */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t = task_in(SYS_write, TASKS_FD_PIPE, 0); /* stdout: the lab drains it */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t = task_in(SYS_sendto, TASKS_FD_SOCKET, 4242); /* another socket */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
}

static void test_receive_with_rcvtimeo_is_its_own_clock(void **state)
{
	struct tasks_task t = task_in(SYS_recvfrom, TASKS_FD_SOCKET, 1001);
	struct tasks_wait w;

	(void)state;
	assert_int_equal(kind_of(&t, NULL), TASKS_RECEIVING);
	t.fds[0].rcvtimeo_us = 1000000;
	tasks_classify(&t, &CONN, &w);
	assert_int_equal(w.kind, TASKS_OTHER);
	assert_non_null(strstr(w.text, "SO_RCVTIMEO"));
}

/* Keep-alive ends a wait for input on an idle connection whose peer is gone;
 * it is read from the socket's option, never from a sample of its timer (the
 * timer is not pending while it sends a probe). It does not end a send. */
static void test_receive_with_keepalive_may_end(void **state)
{
	struct tasks_task t = task_in(SYS_recvfrom, TASKS_FD_SOCKET, 1001);
	struct tasks_wait w;

	(void)state;
	t.fds[0].keepalive = true;
	tasks_classify(&t, &CONN, &w);
	assert_int_equal(w.kind, TASKS_OTHER);
	assert_non_null(strstr(w.text, "SO_KEEPALIVE"));
	t.call.nr = SYS_epoll_pwait;
	t.call.args[3] = (long)-1; /* no timeout */
	t.fds[0].events = EPOLLIN;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.fds[0].keepalive = false;
	assert_int_equal(kind_of(&t, NULL), TASKS_RECEIVING);
	t = task_in(SYS_sendto, TASKS_FD_SOCKET, 1001);
	t.fds[0].keepalive = true; /* data in flight: no keep-alive probe */
	assert_int_equal(kind_of(&t, NULL), TASKS_SENDING);
}

static void test_accept_and_pipes_wait_for_the_run(void **state)
{
	struct tasks_task t = task_in(SYS_accept4, TASKS_FD_SOCKET, 77);

	(void)state;
	assert_int_equal(kind_of(&t, NULL), TASKS_WAITING);
	t.fds[0].rcvtimeo_us = 1000; /* accept times out too */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t = task_in(SYS_read, TASKS_FD_PIPE, 0);
	assert_int_equal(kind_of(&t, NULL), TASKS_WAITING);
	t = task_in(SYS_read, TASKS_FD_TIMERFD, 0);
	t.fds[0].armed = true;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
}

static void test_sleeps_and_running_tasks_may_move(void **state)
{
	struct tasks_task t = task_in(SYS_clock_nanosleep, TASKS_FD_UNKNOWN, 0);

	(void)state;
	t.n_fds = 0;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t = task_in(SYS_sendto, TASKS_FD_SOCKET, 1001);
	t.state = 'R';
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.state = 'T'; /* stopped */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.state = 'S';
	t.call.running = true;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
}

static void test_process_clocks_and_foreign_abis_prove_nothing(void **state)
{
	struct tasks_task t = task_in(SYS_sendto, TASKS_FD_SOCKET, 1001);

	(void)state;
	t.has_posix_timer = true;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.has_posix_timer = false;
	t.catches_sigalrm = true;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.catches_sigalrm = false;
	t.native_abi = false; /* a 32-bit program: its numbers are another table's */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.native_abi = true;
	t.call.nr = 0x40000000L | SYS_sendto; /* x32 */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
}

static void test_futex_and_wait_without_limits_wait_for_the_run(void **state)
{
	struct tasks_task t = task_in(SYS_futex, TASKS_FD_UNKNOWN, 0);

	(void)state;
	t.n_fds = 0;
	t.call.args[1] = 0x80; /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG, no timeout */
	assert_int_equal(kind_of(&t, NULL), TASKS_WAITING);
	t.call.args[3] = 0x7ffd0000; /* a timeout */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.call.nr = SYS_waitid;
	t.call.args[3] = WEXITED;
	assert_int_equal(kind_of(&t, NULL), TASKS_WAITING);
	t.call.args[3] = WEXITED | WNOHANG;
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
}

static void test_poll_for_writability_only_is_sending(void **state)
{
	struct tasks_task t = task_in(SYS_ppoll, TASKS_FD_SOCKET, 1002);
	int end;

	(void)state;
	t.call.args[2] = 0; /* no timeout */
	t.fds[0].events = POLLOUT;
	assert_int_equal(kind_of(&t, &end), TASKS_SENDING);
	assert_int_equal(end, 1);
	t.fds[0].events = POLLOUT | POLLIN; /* input would wake it */
	assert_int_equal(kind_of(&t, NULL), TASKS_RECEIVING);
	t.fds[0].events = POLLOUT;
	t.call.args[2] = 0x7ffd0000; /* with a timeout */
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
}

static void test_epoll_with_an_armed_timerfd_is_its_own_clock(void **state)
{
	struct tasks_task t = task_in(SYS_epoll_pwait, TASKS_FD_SOCKET, 1001);

	(void)state;
	t.call.args[3] = (long)-1; /* no timeout */
	t.fds[0].events = EPOLLOUT;
	assert_int_equal(kind_of(&t, NULL), TASKS_SENDING);
	t.n_fds = 2;
	t.fds[1] = (struct tasks_fd){
		.fd = 4, .type = TASKS_FD_TIMERFD, .armed = true, .events = EPOLLIN
	};
	assert_int_equal(kind_of(&t, NULL), TASKS_OTHER);
	t.fds[1].armed = false;
	assert_int_equal(kind_of(&t, NULL), TASKS_SENDING);
}

static void test_the_proofs_on_views(void **state)
{
	struct tasks_view v = { .n_tasks = 4, .sending = { 1, 1 }, .waiting = 2 };

	(void)state;
	assert_true(tasks_all_blocked_sending(&v));
	assert_false(tasks_all_waiting(&v));
	v.sending[1] = 0; /* only one side blocked: its peer may still read */
	assert_false(tasks_all_blocked_sending(&v));
	v.sending[1] = 1;
	v.other = 1;
	assert_false(tasks_all_blocked_sending(&v));
	v = (struct tasks_view){ .n_tasks = 2, .waiting = 1, .receiving = 1 };
	assert_true(tasks_all_waiting(&v));
	assert_false(tasks_all_blocked_sending(&v));
	v.other = 1;
	assert_false(tasks_all_waiting(&v));
	v = (struct tasks_view){ 0 };
	assert_false(tasks_all_waiting(&v)); /* nobody left: nothing to call hung */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_on_the_connection_is_sending_on_that_end),
		cmocka_unit_test(test_send_with_sndtimeo_or_elsewhere_proves_nothing),
		cmocka_unit_test(test_receive_with_rcvtimeo_is_its_own_clock),
		cmocka_unit_test(test_receive_with_keepalive_may_end),
		cmocka_unit_test(test_accept_and_pipes_wait_for_the_run),
		cmocka_unit_test(test_sleeps_and_running_tasks_may_move),
		cmocka_unit_test(test_process_clocks_and_foreign_abis_prove_nothing),
		cmocka_unit_test(test_futex_and_wait_without_limits_wait_for_the_run),
		cmocka_unit_test(test_poll_for_writability_only_is_sending),
		cmocka_unit_test(test_epoll_with_an_armed_timerfd_is_its_own_clock),
		cmocka_unit_test(test_the_proofs_on_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
