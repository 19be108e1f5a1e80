/*
 * cmd_check.c - `geobatch check INDEX`: verify an index (header, every section's bounds and
 * checksum, every stored reference) and print its sources and counts per kind and country.
 */
#include "cli/cmd.h"
#include "base/conf.h"
#include "base/err.h"
#include "import/import.h"
#include "index/index.h"
#include "index/index_format.h"

#include <stdio.h>
#include <time.h>

/* Print the index's header, sources and counts per kind and per country. */
static void describe(const struct index *ix, FILE *fp)
{
    const struct index_view *v = index_view(ix);
    struct index_counts c;
    index_counts(ix, &c);
    fprintf(fp, "format %u normaliser %u bytes %llu\n", v->hdr->format_version,
            v->hdr->norm_version, (unsigned long long)v->hdr->file_size);
    for (size_t i = 0; i < v->n_sources; i++) {
        const struct ix_source *s = &v->sources[i];
        char when[32];
        time_t t = (time_t)s->mtime;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(fp, "source %s format=%s bytes=%llu date=%s records=%llu\n", ix_str(v, s->name),
                import_format_name((enum import_format)s->format), (unsigned long long)s->size,
                when, (unsigned long long)s->records);
    }
    fprintf(fp,
            "addresses %llu\nstreets %llu\ninterpolation_ranges %llu\nplaces %llu\n"
            "postcodes %llu\nadmin_areas %llu\n",
            (unsigned long long)c.addresses, (unsigned long long)c.streets,
            (unsigned long long)c.interps, (unsigned long long)c.places,
            (unsigned long long)c.postcodes, (unsigned long long)c.admins);
    for (size_t i = 0; i < v->n_countries; i++) {
        const struct ix_country *k = &v->countries[i];
        fprintf(fp, "country %.2s addresses=%u streets=%u places=%u postcodes=%u\n",
                k->code[0] ? k->code : "--", k->addresses, k->streets, k->places, k->postcodes);
    }
}

int cmd_check(int argc, char **argv)
{
    static const struct conf_opt opts[] = {{NULL}};
    static const struct conf_spec spec = {
        .usage = "geobatch check INDEX",
        .summary = "Verify the index file and print its sources and its counts per kind "
                   "(addresses, streets,\ninterpolation ranges, places, postcodes, admin areas) "
                   "and per country. Exit 1 when it is\ncorrupt or unreadable.",
        .opts = opts,
    };
    char *pos[1];
    int n = 0;
    int rc = cmd_parse(&spec, argc, argv, pos, 1, &n);
    if (rc >= 0)
        return rc;
    if (n != 1) {
        fprintf(stderr, "geobatch check: need exactly one INDEX file\n");
        return CMD_USAGE;
    }
    struct index *ix = NULL;
    char err[512] = "";
    rc = index_open(&ix, pos[0], err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "geobatch check: %s\n", err[0] ? err : gb_strerror(rc));
        return CMD_FAIL;
    }
    printf("index %s ok\n", pos[0]);
    describe(ix, stdout);
    index_close(ix);
    return CMD_OK;
}
