/* shim_explain: did a fault line act, and if not, why (see shim_explain.h). */
#include "lab/shim/shim_explain.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits on what a header may claim, so that a corrupt file costs little. */
#define EXE_MAX_PHDRS 4096
#define EXE_MAX_SHDRS 65535
#define EXE_MAX_DYN 4096
#define EXE_MAX_LOADS 32

/* ---- reading an ELF file ----------------------------------------------------------- */

/* Exactly len bytes at offset, or -1 (short file, read error). */
static int read_at(int fd, uint64_t offset, void *buf, size_t len)
{
	size_t done = 0;

	if (offset > (uint64_t)INT64_MAX - len)
		return -1;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* A NUL-terminated string at offset, at most len - 1 bytes (a shorter file, or no
 * NUL in reach, gives what was there); -1 when nothing can be read. */
static int read_string_at(int fd, uint64_t offset, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, (off_t)offset);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The fields of the ELF headers we need, whatever the class. */
struct elf_info {
	bool is64;
	uint64_t phoff, shoff;
	unsigned phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_load {
	uint64_t vaddr, offset, filesz;
};

static int elf_header(int fd, struct elf_info *info)
{
	unsigned char ident[EI_NIDENT];

	if (read_at(fd, 0, ident, sizeof(ident)) < 0)
		return -1;
	if (ident[EI_DATA] !=
	    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB))
		return -1;
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr h;

		if (read_at(fd, 0, &h, sizeof(h)) < 0)
			return -1;
		*info = (struct elf_info){ true,      h.e_phoff,     h.e_shoff, h.e_phentsize,
					   h.e_phnum, h.e_shentsize, h.e_shnum, h.e_shstrndx };
		return info->phentsize == sizeof(Elf64_Phdr) ? 0 : -1;
	}
	if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr h;

		if (read_at(fd, 0, &h, sizeof(h)) < 0)
			return -1;
		*info = (struct elf_info){ false,     h.e_phoff,     h.e_shoff, h.e_phentsize,
					   h.e_phnum, h.e_shentsize, h.e_shnum, h.e_shstrndx };
		return info->phentsize == sizeof(Elf32_Phdr) ? 0 : -1;
	}
	return -1;
}

/* Program header i as (type, offset, vaddr, filesz). */
static int elf_phdr(int fd, const struct elf_info *info, unsigned i, uint32_t *type,
		    uint64_t *offset, uint64_t *vaddr, uint64_t *filesz)
{
	uint64_t at = info->phoff + (uint64_t)i * info->phentsize;

	if (info->is64) {
		Elf64_Phdr p;

		if (read_at(fd, at, &p, sizeof(p)) < 0)
			return -1;
		*type = p.p_type;
		*offset = p.p_offset;
		*vaddr = p.p_vaddr;
		*filesz = p.p_filesz;
	} else {
		Elf32_Phdr p;

		if (read_at(fd, at, &p, sizeof(p)) < 0)
			return -1;
		*type = p.p_type;
		*offset = p.p_offset;
		*vaddr = p.p_vaddr;
		*filesz = p.p_filesz;
	}
	return 0;
}

/* Section header i as (name, offset, size). */
static int elf_shdr(int fd, const struct elf_info *info, unsigned i, uint32_t *name,
		    uint64_t *offset, uint64_t *size)
{
	uint64_t at = info->shoff + (uint64_t)i * info->shentsize;

	if (info->is64) {
		Elf64_Shdr s;

		if (info->shentsize != sizeof(s) || read_at(fd, at, &s, sizeof(s)) < 0)
			return -1;
		*name = s.sh_name;
		*offset = s.sh_offset;
		*size = s.sh_size;
	} else {
		Elf32_Shdr s;

		if (info->shentsize != sizeof(s) || read_at(fd, at, &s, sizeof(s)) < 0)
			return -1;
		*name = s.sh_name;
		*offset = s.sh_offset;
		*size = s.sh_size;
	}
	return 0;
}

/* Dynamic entry i of the table at offset as (tag, value). */
static int elf_dyn(int fd, const struct elf_info *info, uint64_t offset, unsigned i, int64_t *tag,
		   uint64_t *value)
{
	if (info->is64) {
		Elf64_Dyn d;

		if (read_at(fd, offset + (uint64_t)i * sizeof(d), &d, sizeof(d)) < 0)
			return -1;
		*tag = d.d_tag;
		*value = d.d_un.d_val;
	} else {
		Elf32_Dyn d;

		if (read_at(fd, offset + (uint64_t)i * sizeof(d), &d, sizeof(d)) < 0)
			return -1;
		*tag = d.d_tag;
		*value = d.d_un.d_val;
	}
	return 0;
}

/* The file offset of a virtual address, through the PT_LOAD segments. */
static bool vaddr_to_offset(const struct elf_load *loads, size_t n_loads, uint64_t vaddr,
			    uint64_t *offset)
{
	size_t i;

	for (i = 0; i < n_loads; i++) {
		if (vaddr >= loads[i].vaddr && vaddr - loads[i].vaddr < loads[i].filesz) {
			*offset = loads[i].offset + (vaddr - loads[i].vaddr);
			return true;
		}
	}
	return false;
}

/* DT_NEEDED names: libc, liburing. */
static void elf_needed(int fd, const struct elf_info *info, uint64_t dyn_offset, uint64_t dyn_bytes,
		       const struct elf_load *loads, size_t n_loads, struct shim_exe *exe)
{
	unsigned entry_bytes = info->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	uint64_t n = dyn_bytes / entry_bytes, strtab = 0, needed[64];
	size_t n_needed = 0, i;
	uint64_t strtab_offset;
	unsigned j;

	if (n > EXE_MAX_DYN)
		n = EXE_MAX_DYN;
	for (j = 0; j < n; j++) {
		int64_t tag;
		uint64_t value;

		if (elf_dyn(fd, info, dyn_offset, j, &tag, &value) < 0 || tag == DT_NULL)
			break;
		if (tag == DT_STRTAB)
			strtab = value;
		else if (tag == DT_NEEDED && n_needed < sizeof(needed) / sizeof(needed[0]))
			needed[n_needed++] = value;
	}
	if (strtab == 0 || !vaddr_to_offset(loads, n_loads, strtab, &strtab_offset))
		return;
	for (i = 0; i < n_needed; i++) {
		char name[64];

		if (read_string_at(fd, strtab_offset + needed[i], name, sizeof(name)) < 0)
			continue;
		if (strncmp(name, "libc.so", 7) == 0)
			exe->needs_libc = true;
		if (strncmp(name, "liburing.so", 11) == 0)
			exe->needs_liburing = true;
	}
}

/* A Go build-info section. */
static void elf_sections(int fd, const struct elf_info *info, struct shim_exe *exe)
{
	uint64_t names_offset, names_bytes, offset, size;
	uint32_t name;
	unsigned i, n = info->shnum > EXE_MAX_SHDRS ? EXE_MAX_SHDRS : info->shnum;

	if (info->shoff == 0 || info->shstrndx >= n ||
	    elf_shdr(fd, info, info->shstrndx, &name, &names_offset, &names_bytes) < 0)
		return;
	for (i = 0; i < n; i++) {
		char section[32];

		if (elf_shdr(fd, info, i, &name, &offset, &size) < 0)
			return;
		if (name >= names_bytes ||
		    read_string_at(fd, names_offset + name, section, sizeof(section)) < 0)
			continue;
		if (strcmp(section, ".go.buildinfo") == 0 ||
		    strcmp(section, ".note.go.buildid") == 0)
			exe->go = true;
	}
}

static void elf_inspect(int fd, struct shim_exe *exe)
{
	struct elf_load loads[EXE_MAX_LOADS];
	struct elf_info info;
	uint64_t dyn_offset = 0, dyn_bytes = 0;
	size_t n_loads = 0;
	unsigned i, n;

	if (elf_header(fd, &info) < 0)
		return;
	exe->elf = true;
	n = info.phnum > EXE_MAX_PHDRS ? EXE_MAX_PHDRS : info.phnum;
	for (i = 0; i < n; i++) {
		uint64_t offset, vaddr, filesz;
		uint32_t type;

		if (elf_phdr(fd, &info, i, &type, &offset, &vaddr, &filesz) < 0) {
			exe->truncated = true;
			break;
		}
		if (type == PT_INTERP)
			exe->has_interp = true;
		if (type == PT_DYNAMIC) {
			exe->has_dynamic = true;
			dyn_offset = offset;
			dyn_bytes = filesz;
		}
		if (type == PT_LOAD && n_loads < EXE_MAX_LOADS)
			loads[n_loads++] = (struct elf_load){ vaddr, offset, filesz };
	}
	if (exe->has_dynamic)
		elf_needed(fd, &info, dyn_offset, dyn_bytes, loads, n_loads, exe);
	elf_sections(fd, &info, exe);
}

/* path itself when it has a '/', else the first executable PATH entry. */
static int resolve(const char *path, char *out, size_t len)
{
	const char *dirs = getenv("PATH");
	const char *p;

	if (strchr(path, '/') != NULL || dirs == NULL) {
		snprintf(out, len, "%s", path);
		return 0;
	}
	for (p = dirs; *p != '\0';) {
		size_t dir_len = strcspn(p, ":");

		snprintf(out, len, "%.*s/%s", (int)dir_len, dir_len ? p : ".", path);
		if (access(out, X_OK) == 0)
			return 0;
		p += dir_len;
		if (*p == ':')
			p++;
	}
	snprintf(out, len, "%s", path);
	return -1;
}

int shim_exe_inspect(const char *path, struct shim_exe *exe, struct lab_err *err)
{
	char file[PATH_MAX], magic[4];
	int fd;

	memset(exe, 0, sizeof(*exe));
	if (resolve(path, file, sizeof(file)) < 0)
		return lab_err_set(err, "%s: not found in PATH", path);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lab_err_sys(err, errno, "%s", file);
	if (read_at(fd, 0, magic, sizeof(magic)) == 0) {
		if (memcmp(magic, "#!", 2) == 0)
			exe->script = true;
		else if (memcmp(magic, ELFMAG, SELFMAG) == 0)
			elf_inspect(fd, exe);
	}
	close(fd);
	return 0;
}

bool shim_exe_preloadable(const struct shim_exe *exe)
{
	return exe->script ||
	       (exe->elf && !exe->truncated && exe->has_interp && exe->needs_libc && !exe->go);
}

/* ---- which counter a fault line moves ------------------------------------------- */

/* The rule number of error fault faults[index] among its program's error faults. */
static size_t error_rule_of(const struct fault *faults, size_t index)
{
	size_t i, rule = 0;

	for (i = 0; i < index; i++) {
		if (faults[i].who == faults[index].who && faults[i].kind == FAULT_ERROR)
			rule++;
	}
	return rule;
}

int64_t shim_fault_fired(const struct shim_stats *sum, const struct fault *faults, size_t n_faults,
			 size_t index)
{
	size_t rule;

	if (index >= n_faults)
		return -1;
	switch (faults[index].kind) {
	case FAULT_SEND_MAX:
		return (int64_t)sum->send_max_cuts;
	case FAULT_RECV_MAX:
		return (int64_t)sum->recv_max_cuts;
	case FAULT_SEND_DELAY:
		return (int64_t)sum->send_delays;
	case FAULT_RECV_DELAY:
		return (int64_t)sum->recv_delays;
	case FAULT_ERROR:
		rule = error_rule_of(faults, index);
		return rule < SHIM_MAX_ERRORS ? (int64_t)sum->error_rule_fired[rule] : -1;
	case FAULT_BUFFERS:
		return (int64_t)sum->buffers_set;
	case FAULT_RESET_AFTER:
		return (int64_t)sum->resets_done;
	case FAULT_CLOSE_AFTER:
		return (int64_t)sum->early_closes;
	case FAULT_PAUSE:
	case FAULT_KILL:
		return -1;
	}
	return -1;
}

/* ---- why it did not --------------------------------------------------------------- */

static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* A program the shim saw started (exec'ed) or running that LD_PRELOAD cannot
 * reach or whose sockets bypass libc: says so and returns true. */
static bool blame_executable(const struct shim_seen *seen, char *buf, size_t len)
{
	size_t i;

	for (i = 0; seen != NULL && i < seen->n_execs + seen->n_images; i++) {
		const char *path =
			i < seen->n_execs ? seen->execs[i] : seen->images[i - seen->n_execs];
		struct shim_exe exe;

		if (shim_exe_inspect(path, &exe, NULL) < 0 || exe.script || !exe.elf ||
		    exe.truncated)
			continue;
		if (exe.go) {
			say(buf, len,
			    "%s is a Go program: it makes its socket calls itself, not through "
			    "libc, so the shim never sees them",
			    path);
			return true;
		}
		if (!exe.has_interp) {
			say(buf, len,
			    "%s is statically linked (no PT_INTERP%s): the dynamic loader never "
			    "runs, so LD_PRELOAD cannot put the shim in it",
			    path, exe.has_dynamic ? ", a static-pie" : "");
			return true;
		}
		if (!exe.needs_libc) {
			say(buf, len,
			    "%s does not use libc (no libc.so in its DT_NEEDED): its socket calls "
			    "never reach the shim",
			    path);
			return true;
		}
	}
	return false;
}

static bool uses_liburing(const struct shim_seen *seen, const char **which)
{
	size_t i;

	for (i = 0; seen != NULL && i < seen->n_images; i++) {
		struct shim_exe exe;

		if (shim_exe_inspect(seen->images[i], &exe, NULL) == 0 && exe.needs_liburing) {
			*which = seen->images[i];
			return true;
		}
	}
	return false;
}

/* The fault's own reason, once the program is known to have made TCP sockets. */
static void explain_kind(const struct shim_stats *sum, const struct fault *f, size_t rule,
			 char *buf, size_t len)
{
	bool sending = f->kind == FAULT_SEND_MAX || f->kind == FAULT_SEND_DELAY;
	uint64_t calls = sending ? sum->send_calls : sum->recv_calls;
	uint64_t largest = sending ? sum->largest_send_bytes : sum->largest_recv_bytes;
	const char *dir = sending ? "send" : "receive";

	switch (f->kind) {
	case FAULT_SEND_MAX:
	case FAULT_RECV_MAX:
		if (calls == 0)
			say(buf, len, "the program made no %s call on a TCP socket", dir);
		else
			say(buf, len,
			    "no %s call asked for more than %" PRId64 " bytes (%" PRIu64
			    " calls, the largest asked for %" PRIu64 ")",
			    dir, f->bytes, calls, largest);
		return;
	case FAULT_SEND_DELAY:
	case FAULT_RECV_DELAY:
		if (calls == 0)
			say(buf, len, "the program made no %s call on a TCP socket", dir);
		else
			say(buf, len,
			    "each of its %" PRIu64 " %s calls was non-blocking on a socket "
			    "that was not ready (they wait only when they can move data)",
			    calls, dir);
		return;
	case FAULT_ERROR:
		if (rule >= SHIM_MAX_ERRORS || sum->error_rule_calls[rule] == 0)
			say(buf, len, "the program made no %s call on a TCP socket", f->call);
		else if (f->when == WHEN_EVERY)
			say(buf, len,
			    "only %" PRIu64 " %s calls, fewer than the %" PRId64 " that fire it",
			    sum->error_rule_calls[rule], f->call, f->when_n);
		else if (f->when == WHEN_AFTER)
			say(buf, len,
			    "no socket reached %" PRId64 " bytes sent + received before a %s "
			    "call (the most on one socket: %" PRIu64 ")",
			    f->when_n, f->call, sum->most_socket_bytes);
		else
			say(buf, len, "its %" PRIu64 " %s calls were never failed",
			    sum->error_rule_calls[rule], f->call);
		return;
	case FAULT_RESET_AFTER:
	case FAULT_CLOSE_AFTER:
		if (sum->untracked_calls > 0)
			say(buf, len,
			    "%" PRIu64 " calls were on sockets the shim had no room to count "
			    "(the most bytes on a counted socket: %" PRIu64 ")",
			    sum->untracked_calls, sum->most_socket_bytes);
		else
			say(buf, len,
			    "no socket reached %" PRId64 " bytes sent + received (the most on "
			    "one socket: %" PRIu64 ")",
			    f->bytes, sum->most_socket_bytes);
		return;
	case FAULT_BUFFERS:
		say(buf, len, "setsockopt refused the buffer sizes on its %" PRIu64 " TCP sockets",
		    sum->tcp_sockets);
		return;
	case FAULT_PAUSE:
	case FAULT_KILL:
		break;
	}
	say(buf, len, "not a fault of the shim (the lab sends the signal)");
}

void shim_explain(const struct shim_stats *sum, const struct shim_seen *seen,
		  const struct fault *faults, size_t n_faults, size_t index, char *buf, size_t len)
{
	const char *ring = NULL;
	int64_t fired;

	if (len == 0)
		return;
	buf[0] = '\0';
	fired = shim_fault_fired(sum, faults, n_faults, index);
	if (fired < 0) {
		say(buf, len, "not a fault of the shim (the lab sends the signal)");
		return;
	}
	if (fired > 0) {
		say(buf, len, "it acted %" PRId64 " times", fired);
		return;
	}
	if (sum->processes == 0) {
		say(buf, len,
		    "no process loaded the shim: LD_PRELOAD was not honoured (a set-user-ID "
		    "program, or one started with a cleaned environment)");
		return;
	}
	if (blame_executable(seen, buf, len))
		return;
	if (sum->calls_intercepted == 0) {
		if (sum->io_uring_setups > 0)
			say(buf, len,
			    "the program made no TCP call through libc, and set up io_uring %" PRIu64
			    " times: I/O submitted through io_uring bypasses the shim",
			    sum->io_uring_setups);
		else if (uses_liburing(seen, &ring))
			say(buf, len,
			    "the program made no TCP call through libc; %s uses liburing, whose "
			    "I/O bypasses the shim",
			    ring);
		else if (sum->copy_file_range_calls > 0)
			say(buf, len,
			    "the program's only TCP calls were copy_file_range, which Linux refuses "
			    "on sockets");
		else
			say(buf, len,
			    "the shim was loaded (%" PRIu64
			    " program image%s) but saw no call on a "
			    "TCP socket: the program made none, or made them without libc",
			    sum->processes, sum->processes == 1 ? "" : "s");
		return;
	}
	explain_kind(sum, &faults[index],
		     faults[index].kind == FAULT_ERROR ? error_rule_of(faults, index) : 0, buf,
		     len);
}
