/* commands: tcplab's commands, one file each (cmd_run.c, cmd_check.c, cmd_show.c,
 * cmd_list.c, cmd_explore.c). Each takes its own argv (argv[0] is the command's name), prints
 * what the user sees and returns the exit status. */
#ifndef TCPLAB_COMMANDS_H
#define TCPLAB_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_explore(int argc, char **argv);

#endif
