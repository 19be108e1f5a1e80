/*
 * norm.h - the one normaliser, shared by the importer (to build the index) and the geocoder
 * (to read queries). Pure functions: no I/O after norm_init(), no threads, no hidden state.
 *
 * The canonical form of a name is lower-case tokens separated by single spaces:
 *   - Unicode NFKD, case folding, combining marks stripped (utf8proc);
 *   - transliterations ß→ss, æ→ae, ø→oe, å→aa, œ→oe, þ→th, đ→d, ł→l ..., then the digraphs
 *     ae/oe/ue/aa folded to a/o/u/a so that Nørrebrogade, Norrebrogade and Noerrebrogade meet;
 *   - every character that is not a letter or digit is a token boundary ("Vorarlberger-Str.",
 *     "St.Gallen");
 *   - abbreviations expanded from the per-language lists in data/dict/<lang>.txt ("str" →
 *     "strasse", "nam" → "namesti", "st" → "street"/"saint" ...), including suffix forms
 *     ("Landstr." → "landstrasse").
 * Index keys ignore spaces between tokens, so "Land Strasse" and "Landstrasse" meet.
 *
 * The index records NORM_VERSION; bump it whenever the output of any function here changes.
 */
#ifndef GEOBATCH_NORM_H
#define GEOBATCH_NORM_H

#include <stdbool.h>
#include <stddef.h>

#define NORM_VERSION    1
#define NORM_MAX        1024 /* bytes of normalised output, NUL included */
#define NORM_MAX_TOKENS 64

/*
 * Load the abbreviation lists from dir (NULL: the compiled-in GB_DICT_DIR, or $GB_DICT_DIR).
 * Call once at start-up before any other norm_* call; safe to call again (no-op).
 * Return 0, -errno if a list cannot be read, GB_EFORMAT with a log line naming file and line.
 */
int norm_init(const char *dir);

/*
 * Normalise the name 'in' (len bytes of UTF-8; invalid bytes are dropped) into out (cap bytes,
 * at most NORM_MAX) as the canonical form described above, using the abbreviation lists of the
 * languages spoken in 'country' (ISO 3166 alpha-2 or alpha-3, any case; NULL or unknown: all
 * lists). Return the length written (NUL-terminated; 0 for a name with no letters or digits),
 * or GB_ETOOLONG when the result does not fit.
 */
int norm_name(const char *in, size_t len, const char *country, char *out, size_t cap);

/* Like norm_name() without the spaces: the compound-insensitive key of a street or place name. */
int norm_key(const char *in, size_t len, const char *country, char *out, size_t cap);

/*
 * A house number as written: "12", "12a", "12 A", "12-14", "1075/47", "110/Top 20", "21, Whg. 7",
 * "#3", "216 Ste 14". number is the main number (the street number for Czech "1075/47": the
 * part after the slash is the orientation number; both are kept), suffix the letters after it.
 */
struct hnum {
    long number;    /* first number, -1 when there is none */
    long number2;   /* second number of "1075/47" or end of range "12-14", else -1 */
    char suffix[8]; /* lower-case letter suffix ("a"), "" when none */
    char unit[32];  /* unit text recognised and set aside ("top 20", "whg 7"), "" when none */
    bool is_range;  /* "12-14" or "12;14": number..number2 */
    bool is_slash;  /* "1075/47" form */
};

/* Parse a house number. Return 0 and fill *out, or GB_EPARAM when it holds no number. */
int norm_hnum(const char *in, size_t len, struct hnum *out);

/* Return the ISO 3166-1 alpha-2 code (upper case) for an alpha-2, alpha-3 or English/native
 * country name in any case ("li", "LIE", "Liechtenstein"), or NULL when unknown. */
const char *norm_country(const char *in, size_t len);

/* Return the alpha-3 code and the English name for an alpha-2 code, or NULL. */
const char *norm_country_iso3(const char *iso2);
const char *norm_country_name(const char *iso2);

#endif
