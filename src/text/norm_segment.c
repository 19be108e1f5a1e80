/*
 * norm_segment.c - the words that mark parts of a free-text address block that are not the
 * address: recipients, legal forms, departments, building/floor/unit text (data/dict/segment.txt,
 * format at its top). Loaded by norm_init() through norm_segment_load(); afterwards read-only.
 * A word's key is its folded form (norm_fold) without spaces: "c/o" = "co", "S.L.U." = "slu".
 */
#include "text/norm.h"
#include "text/norm_int.h"

#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG_KEY   32   /* bytes of one key, NUL included */
#define SEG_SLOTS 1024 /* open addressing, power of two; the list has a few hundred words */

struct seg_slot {
    char key[SEG_KEY];
    uint8_t kinds; /* NORM_SEG_* bits; 0 = empty */
    bool suffix;   /* a word ending ("-abteilung") */
};

struct seg_table {
    struct seg_slot slot[SEG_SLOTS];
    size_t max_suffix;
    uint32_t suffix_lens; /* bit n: some word ending is n bytes long */
};

static _Atomic(struct seg_table *) g_seg;

/* The key of s: folded, spaces dropped; "&" and "#" stand for themselves. Return its length,
 * 0 when it has none or does not fit. */
static size_t seg_key(const char *s, size_t n, char *out)
{
    if (n == 1 && (s[0] == '&' || s[0] == '#')) {
        out[0] = s[0];
        out[1] = '\0';
        return 1;
    }
    bool ascii = n < SEG_KEY;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)s[i] < 0x80 && !(s[i] >= '0' && s[i] <= '9');
    if (ascii) { /* norm_fold's result for ASCII letters, the digraph rule included, quicker */
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c < 'a' || c > 'z')
                continue;
            if (w > 0 &&
                ((c == 'e' && (out[w - 1] == 'a' || out[w - 1] == 'o' || out[w - 1] == 'u')) ||
                 (c == 'a' && out[w - 1] == 'a')))
                continue;
            out[w++] = c;
        }
        out[w] = '\0';
        return w;
    }
    char buf[NORM_MAX];
    int k = norm_fold(s, n, buf, sizeof(buf));
    if (k <= 0)
        return 0;
    size_t w = 0;
    for (int i = 0; i < k; i++) {
        if (buf[i] == ' ')
            continue;
        if (w + 1 >= SEG_KEY)
            return 0;
        out[w++] = buf[i];
    }
    out[w] = '\0';
    return w;
}

static struct seg_slot *seg_find(struct seg_table *t, const char *key, bool suffix)
{
    for (uint32_t i = hash_fnv1a(key, strlen(key)) & (SEG_SLOTS - 1);;
         i = (i + 1) & (SEG_SLOTS - 1)) {
        struct seg_slot *s = &t->slot[i];
        if (!s->kinds || (s->suffix == suffix && strcmp(s->key, key) == 0))
            return s;
    }
}

static int seg_kinds(const char *s, uint8_t *out)
{
    static const struct {
        const char *name;
        uint8_t bit;
    } names[] = {{"recipient", NORM_SEG_RECIPIENT},   {"legal", NORM_SEG_LEGAL},
                 {"department", NORM_SEG_DEPARTMENT}, {"unit", NORM_SEG_UNIT},
                 {"building", NORM_SEG_BUILDING},     {"contact", NORM_SEG_CONTACT},
                 {"postal", NORM_SEG_POSTAL}};
    *out = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        size_t i = 0;
        for (; i < sizeof(names) / sizeof(names[0]); i++)
            if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            return -1;
        *out |= names[i].bit;
        s += n + (e ? 1 : 0);
    }
    return *out ? 0 : -1;
}

/* One line "word<TAB>kinds" into t; NULL or why it is wrong. */
static const char *seg_line(struct seg_table *t, char *line, size_t *count)
{
    char *tab = strchr(line, '\t');
    if (!tab)
        return "needs a word and its kinds";
    *tab = '\0';
    char *kinds = tab + 1;
    while (*kinds == '\t')
        kinds++;
    uint8_t bits;
    if (seg_kinds(kinds, &bits) < 0)
        return "kinds are not recipient, legal, department, unit, building, contact or postal";
    bool suffix = line[0] == '-' && line[1];
    char key[SEG_KEY];
    const char *w = line + (suffix ? 1 : 0);
    if (seg_key(w, strlen(w), key) == 0)
        return "the word is empty or too long";
    if (++*count > SEG_SLOTS / 2)
        return "too many words";
    struct seg_slot *s = seg_find(t, key, suffix);
    memcpy(s->key, key, sizeof(key));
    s->kinds |= bits;
    s->suffix = suffix;
    if (suffix && strlen(key) > t->max_suffix)
        t->max_suffix = strlen(key);
    if (suffix && strlen(key) < 32)
        t->suffix_lens |= 1u << strlen(key);
    return NULL;
}

int norm_segment_load(const char *dir)
{
    if (atomic_load_explicit(&g_seg, memory_order_acquire))
        return 0;
    char path[4096];
    FILE *fp;
    int rc = norm_list_open(dir, "segment.txt", path, sizeof(path), &fp);
    if (rc < 0)
        return rc;
    struct seg_table *t = xcalloc(1, sizeof(*t));
    char line[256];
    int lineno = 0;
    size_t count = 0;
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 0 || (line[0] == '#' && line[1] != '\t')) /* "#<TAB>unit" is the word "#" */
            continue;
        const char *why = seg_line(t, line, &count);
        if (why) {
            log_error("norm dict bad line path=%s line=%d reason=\"%s\"", path, lineno, why);
            rc = GB_EFORMAT;
            break;
        }
    }
    if (!rc && ferror(fp))
        rc = -EIO;
    fclose(fp);
    if (rc < 0) {
        free(t);
        return rc;
    }
    struct seg_table *expect = NULL;
    if (!atomic_compare_exchange_strong(&g_seg, &expect, t))
        free(t);
    return 0;
}

unsigned norm_segment_word(const char *s, size_t len)
{
    struct seg_table *t = atomic_load_explicit(&g_seg, memory_order_acquire);
    char key[SEG_KEY];
    size_t kl;
    if (!t || len == 0 || len >= NORM_MAX || (kl = seg_key(s, len, key)) == 0)
        return 0;
    const struct seg_slot *slot = seg_find(t, key, false);
    if (slot->kinds)
        return slot->kinds;
    for (size_t sl = t->max_suffix < kl - 1 ? t->max_suffix : kl - 1; sl >= 3 && kl > 3; sl--) {
        if (!(t->suffix_lens >> sl & 1))
            continue;
        slot = seg_find(t, key + kl - sl, true);
        if (slot->kinds)
            return slot->kinds;
    }
    return 0;
}
