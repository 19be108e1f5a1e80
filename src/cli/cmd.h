/*
 * cmd.h - the subcommands of the geobatch binary. Each takes the arguments after its name
 * (argv[0] is the subcommand name) and returns the process exit status:
 * 0 success, 1 failure, 2 usage error (with a one-line message on stderr).
 */
#ifndef GEOBATCH_CMD_H
#define GEOBATCH_CMD_H

#define CMD_OK    0
#define CMD_FAIL  1
#define CMD_USAGE 2

int cmd_import(int argc, char **argv);
int cmd_geocode(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Parse options for a command by its spec; print usage errors. Returns -1 to continue,
 * or the exit status to return at once (CMD_OK after --help, CMD_USAGE on error). */
struct conf_spec;
int cmd_parse(const struct conf_spec *spec, int argc, char **argv, char **pos, int maxpos,
              int *npos);

/* Set the log level from --log-level; print "geobatch CMD: unknown log level" and return
 * CMD_USAGE when it is not one, else -1 (continue). */
int cmd_log_level(const char *cmd, const char *level);

/* Load the normaliser's lists (norm_init); print why not and return CMD_FAIL on failure, else
 * -1 (continue). */
int cmd_norm_init(const char *cmd);

#endif
