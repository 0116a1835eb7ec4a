/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_completion.c: "chaosctl completion bash|zsh": a completion script
 * written from the tables chaosctl itself parses with (the commands
 * table, the global and each command's options, the fault spec table for
 * inject's faults, their flags and enumerated values), so the script
 * cannot drift from the program. Both shells share the helper functions,
 * written in the syntax bash and zsh have in common; only the entry point
 * differs.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "inject.h"
#include "../common/spec.h"
#include "../common/util.h"

enum { O_HELP = 1 };

const struct ctl_opt completion_options[] = {
	{ "help", false, O_HELP }, { NULL, false, 0 },
};

/* Options whose value is a file or a directory name (any command). */
static const char *const file_opts[] = {
	"agents-file", "key-file", "out", "chaos",
};
static const char *const dir_opts[] = { "runs-dir" };

void
usage_completion(FILE *out)
{
	fprintf(out,
"usage: chaosctl completion bash|zsh\n"
"\n"
"Print a completion script for the shell: commands, global and command\n"
"options, inject's faults with their flags, enumerated values (--output,\n"
"faults --state, a fault's choices) and file names where a file is wanted.\n"
"It is made from chaosctl's own tables, so it matches this chaosctl.\n"
"\n"
"  bash:  chaosctl completion bash > ~/.local/share/bash-completion/completions/"
"chaosctl\n"
"  zsh:   chaosctl completion zsh > \"${fpath[1]}/_chaosctl\"   (then compinit)\n"
"\n"
"The RPM and DEB packages install both.\n");
}

static bool
in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/* " --a --b" for every option of opts. */
static void
print_names(FILE *out, const struct ctl_opt *opts)
{
	for (; opts->name != NULL; opts++)
		fprintf(out, " --%s", opts->name);
}

/*
 * A case branch "\tPREFIX--a|PREFIX--b) return 0 ;;" for the options of
 * opts that take a value; nothing when none does.
 */
static void
print_valued(FILE *out, const char *prefix, const struct ctl_opt *opts)
{
	bool first = true;

	for (; opts->name != NULL; opts++) {
		if (!opts->has_arg)
			continue;
		fprintf(out, "%s%s--%s", first ? "\t" : "|", prefix, opts->name);
		first = false;
	}
	if (!first)
		fprintf(out, ") return 0 ;;\n");
}

/* Choices "a|b|c" as words "a b c". */
static void
print_choices(FILE *out, const char *choices)
{
	for (; *choices != '\0'; choices++)
		fputc(*choices == '|' ? ' ' : *choices, out);
}

/* _chaosctl_opts CMD FAULT: the options there, global ones included. */
static void
gen_opts(FILE *out)
{
	struct ctl_opt opts[INJECT_OPTS_MAX];
	size_t c, f;

	fprintf(out, "_chaosctl_opts() {\n\techo \"-v");
	print_names(out, ctl_global_options);
	fprintf(out, "\"\n\tcase \"$1\" in\n\tinject)\n\t\tcase \"$2\" in\n");
	for (f = 0; f < spec_nfaults; f++) {
		inject_options(&spec_faults[f], opts);
		fprintf(out, "\t\t%s) echo \"", spec_faults[f].name);
		print_names(out, opts);
		fprintf(out, "\" ;;\n");
	}
	fprintf(out, "\t\t*) echo \"--help\" ;;\n\t\tesac ;;\n");
	for (c = 0; c < ctl_ncommands; c++) {
		if (ctl_commands[c].opts == NULL)
			continue;
		fprintf(out, "\t%s) echo \"", ctl_commands[c].name);
		print_names(out, ctl_commands[c].opts);
		fprintf(out, "\" ;;\n");
	}
	fprintf(out, "\tesac\n}\n\n");
}

/* _chaosctl_takes_value CMD FAULT OPTION: whether OPTION is followed by its value. */
static void
gen_takes_value(FILE *out)
{
	struct ctl_opt opts[INJECT_OPTS_MAX];
	char prefix[64];
	size_t c, f;

	fprintf(out, "_chaosctl_takes_value() {\n\tcase \"$1/$2/$3\" in\n");
	print_valued(out, "*/*/", ctl_global_options);
	for (f = 0; f < spec_nfaults; f++) {
		inject_options(&spec_faults[f], opts);
		(void)snprintf(prefix, sizeof(prefix), "inject/%s/", spec_faults[f].name);
		print_valued(out, prefix, opts);
	}
	for (c = 0; c < ctl_ncommands; c++) {
		if (ctl_commands[c].opts == NULL)
			continue;
		(void)snprintf(prefix, sizeof(prefix), "%s/*/", ctl_commands[c].name);
		print_valued(out, prefix, ctl_commands[c].opts);
	}
	fprintf(out, "\tesac\n\treturn 1\n}\n\n");
}

/*
 * _chaosctl_values CMD FAULT OPTION: the words OPTION's value may be
 * (echoed, status 0); status 2 for a file name, 3 for a directory, 1 for
 * anything (nothing to offer).
 */
static void
gen_values(FILE *out)
{
	const struct ctl_opt *g;
	size_t f, p, c;

	fprintf(out, "_chaosctl_values() {\n\tcase \"$1/$2/$3\" in\n"
	    "\t*/*/--output) echo \"text json\" ;;\n"
	    "\tfaults/*/--state) echo \"");
	print_choices(out, fault_state_choices());
	fprintf(out, "\" ;;\n");
	for (f = 0; f < spec_nfaults; f++) {
		const struct spec_fault *sf = &spec_faults[f];

		for (p = 0; p < spec_nparams(sf); p++) {
			const struct spec_param *sp = &sf->params[p];
			size_t i;

			if (sp->type != SPEC_ENUM || sp->choices == NULL)
				continue;
			fprintf(out, "\tinject/%s/--", sf->name);
			for (i = 0; sp->name[i] != '\0'; i++)
				fputc(sp->name[i] == '_' ? '-' : sp->name[i], out);
			fprintf(out, ") echo \"");
			print_choices(out, sp->choices);
			fprintf(out, "\" ;;\n");
		}
	}
	/* File and directory options, wherever a table has one. */
	for (g = ctl_global_options; g->name != NULL; g++)
		if (in_list(g->name, file_opts, NELEM(file_opts)))
			fprintf(out, "\t*/*/--%s) return 2 ;;\n", g->name);
	for (c = 0; c < ctl_ncommands; c++) {
		const struct ctl_opt *o = ctl_commands[c].opts;

		for (; o != NULL && o->name != NULL; o++) {
			if (in_list(o->name, file_opts, NELEM(file_opts)))
				fprintf(out, "\t%s/*/--%s) return 2 ;;\n", ctl_commands[c].name,
				    o->name);
			else if (in_list(o->name, dir_opts, NELEM(dir_opts)))
				fprintf(out, "\t%s/*/--%s) return 3 ;;\n", ctl_commands[c].name,
				    o->name);
		}
	}
	fprintf(out, "\t*) return 1 ;;\n\tesac\n}\n\n");
}

/*
 * _chaosctl_words CMD FAULT: the positional words wanted next (status 0),
 * or status 2 for a file name, 1 for nothing.
 */
static void
gen_words(FILE *out)
{
	size_t c, f;

	fprintf(out, "_chaosctl_words() {\n\tcase \"$1\" in\n\t\"\"|help) echo \"");
	for (c = 0; c < ctl_ncommands; c++)
		fprintf(out, "%s%s", c ? " " : "", ctl_commands[c].name);
	fprintf(out, "\" ;;\n\tinject)\n\t\t[ -z \"$2\" ] || return 1\n\t\techo \"");
	for (f = 0; f < spec_nfaults; f++)
		fprintf(out, "%s%s", f ? " " : "", spec_faults[f].name);
	fprintf(out, "\" ;;\n\tcompletion) echo \"bash zsh\" ;;\n"
	    "\trun|report|submit) return 2 ;;\n\t*) return 1 ;;\n\tesac\n}\n\n");
}

/*
 * _chaosctl_scan WORD...: the command and (for inject) the fault among the
 * words before the one being completed, into _chaosctl_cmd and
 * _chaosctl_fault. An option that takes a value skips that value.
 */
static void
gen_scan(FILE *out)
{
	fprintf(out,
"_chaosctl_scan() {\n"
"\t_chaosctl_cmd= _chaosctl_fault=\n"
"\tlocal skip=0 w\n"
"\tfor w in \"$@\"; do\n"
"\t\tif [ \"$skip\" = 1 ]; then skip=0; continue; fi\n"
"\t\tcase \"$w\" in\n"
"\t\t--*=*) ;;\n"
"\t\t-*) _chaosctl_takes_value \"$_chaosctl_cmd\" \"$_chaosctl_fault\" \"$w\" && skip=1 ;;\n"
"\t\t*)\n"
"\t\t\tif [ -z \"$_chaosctl_cmd\" ]; then _chaosctl_cmd=$w\n"
"\t\t\telif [ \"$_chaosctl_cmd\" = inject ] && [ -z \"$_chaosctl_fault\" ]; then\n"
"\t\t\t\t_chaosctl_fault=$w\n"
"\t\t\tfi ;;\n"
"\t\tesac\n"
"\tdone\n"
"}\n\n");
}

static void
gen_bash(FILE *out)
{
	fprintf(out,
"_chaosctl() {\n"
"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= words rc\n"
"\tCOMPREPLY=()\n"
"\t_chaosctl_scan \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"\n"
"\t((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
"\tif [[ $prev == -* && $prev != *=* ]] &&\n"
"\t    _chaosctl_takes_value \"$_chaosctl_cmd\" \"$_chaosctl_fault\" \"$prev\"; then\n"
"\t\twords=$(_chaosctl_values \"$_chaosctl_cmd\" \"$_chaosctl_fault\" \"$prev\")\n"
"\t\trc=$?\n"
"\telif [[ $cur == -* ]]; then\n"
"\t\twords=$(_chaosctl_opts \"$_chaosctl_cmd\" \"$_chaosctl_fault\")\n"
"\t\trc=$?\n"
"\telse\n"
"\t\twords=$(_chaosctl_words \"$_chaosctl_cmd\" \"$_chaosctl_fault\")\n"
"\t\trc=$?\n"
"\tfi\n"
"\tcase $rc in\n"
"\t0) mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\") ;;\n"
"\t2) compopt -o filenames 2>/dev/null\n"
"\t   mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
"\t3) compopt -o filenames 2>/dev/null\n"
"\t   mapfile -t COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
"\tesac\n"
"\treturn 0\n"
"}\n"
"complete -F _chaosctl chaosctl\n");
}

static void
gen_zsh(FILE *out)
{
	fprintf(out,
"_chaosctl() {\n"
"\tlocal cur=${words[CURRENT]} prev= list rc\n"
"\t_chaosctl_scan \"${(@)words[2,CURRENT-1]}\"\n"
"\t(( CURRENT > 2 )) && prev=${words[CURRENT-1]}\n"
"\tif [[ $prev == -* && $prev != *=* ]] &&\n"
"\t    _chaosctl_takes_value \"$_chaosctl_cmd\" \"$_chaosctl_fault\" \"$prev\"; then\n"
"\t\tlist=$(_chaosctl_values \"$_chaosctl_cmd\" \"$_chaosctl_fault\" \"$prev\")\n"
"\t\trc=$?\n"
"\telif [[ $cur == -* ]]; then\n"
"\t\tlist=$(_chaosctl_opts \"$_chaosctl_cmd\" \"$_chaosctl_fault\")\n"
"\t\trc=$?\n"
"\telse\n"
"\t\tlist=$(_chaosctl_words \"$_chaosctl_cmd\" \"$_chaosctl_fault\")\n"
"\t\trc=$?\n"
"\tfi\n"
"\tcase $rc in\n"
"\t0) compadd -- ${=list} ;;\n"
"\t2) _files ;;\n"
"\t3) _files -/ ;;\n"
"\tesac\n"
"}\n"
"\n"
"_chaosctl \"$@\"\n");
}

int
cmd_completion(struct ctl *ctl, int argc, char **argv)
{
	const char *shell = NULL, *arg;
	int a, id;

	(void)ctl;
	for (a = 1; a < argc; a++) {
		if ((id = ctl_getopt(completion_options, argc, argv, &a, &arg)) == -2)
			return EXIT_USAGE;
		if (id == O_HELP) {
			usage_completion(stdout);
			return EXIT_ALL_OK;
		}
		if (shell != NULL)
			return ctl_usage_error("completion: one shell at a time ('%s' and '%s')",
			    shell, argv[a]);
		shell = argv[a];
	}
	if (shell == NULL || (strcmp(shell, "bash") != 0 && strcmp(shell, "zsh") != 0)) {
		usage_completion(stderr);
		return ctl_usage_error("completion: name the shell: bash or zsh%s%s%s",
		    shell != NULL ? " (not '" : "", shell != NULL ? shell : "",
		    shell != NULL ? "')" : "");
	}
	if (strcmp(shell, "zsh") == 0)
		printf("#compdef chaosctl\n");
	printf("# %s completion for chaosctl %s, written by 'chaosctl completion %s' from\n"
	    "# chaosctl's own tables of commands, options and faults.\n\n", shell,
	    CHAOS_VERSION, shell);
	gen_opts(stdout);
	gen_takes_value(stdout);
	gen_values(stdout);
	gen_words(stdout);
	gen_scan(stdout);
	if (strcmp(shell, "bash") == 0)
		gen_bash(stdout);
	else
		gen_zsh(stdout);
	return fflush(stdout) == 0 ? EXIT_ALL_OK : ctl_error(CE_SYSTEM, "completion: cannot "
	    "write the script");
}
