/*
 * norm.h - the one normaliser, shared by the importer (to build the index) and the geocoder
 * (to read queries). Pure functions: no I/O after norm_init(); the tables (abbreviation lists,
 * countries) are built once and only read afterwards, so every function is thread-safe.
 *
 * The canonical form of a name is lower-case tokens separated by single spaces:
 *   - Unicode NFKD, case folding, combining marks stripped (utf8proc);
 *   - transliterations ß→ss, æ→ae, ø→oe, å→aa, œ→oe, þ→th, đ→d, ł→l ..., then the digraphs
 *     ae/oe/ue/aa folded to a/o/u/a so that Nørrebrogade, Norrebrogade and Noerrebrogade meet;
 *   - every character that is not a letter or digit is a token boundary ("Vorarlberger-Str.",
 *     "St.Gallen"), and so is a digit after a letter ("Grasgarten15" is "grasgarten 15", "12a"
 *     stays "12a");
 *   - abbreviations expanded from the per-language lists in data/dict/<lang>.txt ("str" →
 *     "strasse", "nam" → "namesti", "st" → "street"/"saint" ...), including suffix forms
 *     ("Landstr." → "landstrasse").
 * Index keys ignore spaces between tokens, so "Land Strasse" and "Landstrasse" meet; between
 * two numbers they keep one, so "Straße 19 3" (a house on Straße 19) is not "Straße 193".
 * The rules, their order and their known costs are described at the top of norm.c; the list
 * format at the top of each data/dict/<lang>.txt. Golden cases: test/cases/norm.tsv.
 *
 * The index records NORM_VERSION; bump it whenever the output of any function here changes.
 */
#ifndef GEOBATCH_NORM_H
#define GEOBATCH_NORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORM_VERSION    6
#define NORM_MAX        1024 /* bytes of normalised output, NUL included */
#define NORM_MAX_TOKENS 64

/*
 * Load the abbreviation lists from dir (NULL: $GB_DICT_DIR when set, else the compiled-in
 * GB_DICT_DIR).
 * Call once at start-up before norm_name()/norm_key() (without it they expand nothing); safe to
 * call again, also from several threads: after the first success it is a no-op returning 0.
 * norm_fold(), norm_hnum() and norm_country*() need no lists and work without it.
 * Return 0, -errno if a list cannot be read, GB_EFORMAT with a log line naming file and line.
 */
int norm_init(const char *dir);

/* Whether norm_init() has loaded the lists (what the normaliser gives before is without them). */
bool norm_ready(void);

/*
 * Normalise the name 'in' (len bytes of UTF-8; invalid bytes are dropped) into out (cap bytes,
 * at most NORM_MAX) as the canonical form described above, using the abbreviation lists of the
 * languages spoken in 'country' (ISO 3166 alpha-2 or alpha-3, any case; NULL or unknown: all
 * lists). Return the length written (NUL-terminated; 0 for a name with no letters or digits),
 * or GB_ETOOLONG when the result does not fit.
 */
int norm_name(const char *in, size_t len, const char *country, char *out, size_t cap);

/*
 * Like norm_name() without the spaces: the compound-insensitive key of a street or place name.
 * The digraph rule is applied again across the joints ("Rosa Allee" = "Rosaallee").
 */
int norm_key(const char *in, size_t len, const char *country, char *out, size_t cap);

/*
 * Like norm_key(), but the words a list drops (articles and prepositions, "ul.") stay: two
 * names with one norm_key() differ here when one has such a word the other has not, which
 * makes such a match a little less certain ("Rua de Santa Catarina" for "Rua Santa Catarina").
 */
int norm_key_all(const char *in, size_t len, const char *country, char *out, size_t cap);

/*
 * Fold only: case, marks, transliteration, digraphs, tokens joined by one space; no
 * abbreviation lists (works before norm_init()). Same returns as norm_name().
 */
int norm_fold(const char *in, size_t len, char *out, size_t cap);

/*
 * A text read as words (the geocoder's free-form tokens), each folded once, so that the keys of
 * many spans of words are made without folding the same bytes again. The answers are those of
 * norm_key() and norm_fold() on the span's text, from its first word's first byte to its last
 * word's last byte, when what separates two words in that text ends a token when folded: white
 * space, ',', ';' (any ASCII byte but a letter, digit, apostrophe, backquote or '.'), or nothing
 * where norm_word_glued() says a number is glued to the word before it. A word or
 * span past the limits below is normalised from its text, with the same answer.
 * The fields are norm.c's; the struct is public only so that it can live in the caller's
 * memory (about 3.5 KB; only the part in use is touched). Not thread-safe: one per thread.
 */
#define NORM_WORDS_MAX     32   /* words */
#define NORM_WORDS_TOKS    96   /* folded tokens of all words */
#define NORM_WORDS_TEXT    2048 /* folded bytes of all words */
#define NORM_WORDS_SEQ     3    /* tokens of the longest abbreviation */
#define NORM_WORDS_ENDINGS 0x80u
struct norm_tok {
    uint16_t off;
    uint16_t len;
    bool dot;
    bool digit;
};
struct norm_words {
    int nword;
    int ntok;
    uint16_t used;
    struct {
        const char *s; /* the word's text */
        size_t len;
        uint16_t tok, ntok; /* its folded tokens */
        uint16_t bytes;     /* the bytes its folding appended (norm_key's limit counts them) */
        bool ok;            /* folded (else the limits were passed) */
    } word[NORM_WORDS_MAX];
    struct norm_tok tok[NORM_WORDS_TOKS];
    char text[NORM_WORDS_TEXT];
    /* norm_words_key's dictionary lookups by first token: bit n - 1 of known[t] says slot[t][n - 1]
     * (n tokens joined) is known, NORM_WORDS_ENDINGS that endings[t] is */
    uint8_t known[NORM_WORDS_TOKS];
    const void *slot[NORM_WORDS_TOKS][NORM_WORDS_SEQ];
    uint64_t endings[NORM_WORDS_TOKS];
};

/*
 * Whether a word of the text that starts at s ends at p, in the middle of a run of letters and
 * digits, because a number is glued to it: p is a digit and the text before it ends with a
 * dotted abbreviation ("Hauptstr.5", "Nr.12", "č.p.1075") or with four letters or more
 * ("Grasgarten15", "Hauptstraße15a"; not "A1", "SW1A", "B52"). The normaliser ends a token there
 * too, so the word's spans keep norm_key()'s answers.
 */
bool norm_word_glued(const char *s, const char *p);

/* Start an empty text. */
void norm_words_reset(struct norm_words *w);

/* Fold the next word, len bytes at s (kept by pointer: it must outlive w's use). Return its
 * index, or GB_ETOOLONG when NORM_WORDS_MAX words are held (the word is not added). */
int norm_words_add(struct norm_words *w, const char *s, size_t len);

/* norm_key() of the text that spans words [i, j) (0 <= i < j <= nword). */
int norm_words_key(struct norm_words *w, int i, int j, const char *country, char *out, size_t cap);

/* norm_fold() of the text that spans words [i, j) with its spaces removed (the key that country
 * and region names are looked up by): the length written, or a negative GB_E* code. */
int norm_words_fold_nospace(const struct norm_words *w, int i, int j, char *out, size_t cap);

/*
 * A house number as written: "12", "12a", "12 A", "12-14", "1075/47", "110/Top 20", "21, Whg. 7",
 * "#3", "216 Ste 14". number is the first number as written; for Czech "1075/47" that is the
 * conscription number and number2 the orientation (street) number: both are kept so that
 * either alone can be found. "12/3" parses the same way (is_slash); whether the part after the
 * slash is an Austrian door or a Czech orientation number is for the caller to decide by
 * country. A word after the slash ("110/Top 20") makes it unit text instead.
 */
struct hnum {
    long number;      /* first number, -1 when there is none ("?/228", "Apt 3") */
    long number2;     /* second number of "1075/47", end of range "12-14", else -1 */
    char suffix[8];   /* lower-case letters after number ("a"), a fraction ("1/2"), "" */
    char suffix2[8];  /* letters after number2 ("1075/47a", "12a-c": "c"), "" when none */
    char unit[32];    /* unit text set aside, folded ("top 20", "whg 7", "# 12"), "" when none */
    bool is_range;    /* "12-14", "12;14", "76, 76a": number..number2 */
    bool is_slash;    /* "1075/47" form */
    bool is_evidence; /* a Czech evidence number ("ev. 12", "č. ev. 12"): a series of its own */
};

/*
 * Parse a house number (at most 256 bytes are read). Return 0 and fill *out, or GB_EPARAM when
 * it holds no digit (or only an absurd one, over 9 digits). Unit words after the number (Apt,
 * Unit, Ste, #, Top, Whg, byt, Danish floors "st. th" ...) go to unit. Cases: test/cases/hnum.tsv.
 */
int norm_hnum(const char *in, size_t len, struct hnum *out);

/* Whether the word (any case, dots ignored) only announces a house number: "Nr.", "No",
 * "č.p.", "ev.", "ev.č." (the list norm_hnum() skips). */
bool norm_hnum_prefix(const char *s, size_t len);

/* Whether the word s (len bytes) is a fraction a house number can end in ("226 1/2"): 1/2,
 * 1/4, 3/4, ½, ¼, ¾ (norm_hnum makes it the number's suffix). */
bool norm_hnum_fraction(const char *s, size_t len);

/* norm_hnum_prefix() of word i of w, from its folded tokens. */
bool norm_words_hnum_prefix(const struct norm_words *w, int i);

/* The value of an English number word that some write as a house number ("One Market
 * Street", "Twenty-One"): 1 to 99, 0 when the word (any case) is none. */
int norm_number_word(const char *s, size_t len);

/* Whether the word (any case, dots ignored) is one that introduces unit text ("Apt", "Top",
 * "Whg", "byt", "Ste", "Unit" ...): the same list norm_hnum() uses. */
bool norm_unit_word(const char *s, size_t len);

/*
 * The key of a postcode: its letters and digits, upper case, so that "182 00", "18200" and
 * "sw1a 1aa" / "SW1A1AA" meet. With strict, a character other than a letter, digit, space or
 * dash means the text is no postcode and 0 is returned (free-text tokens); otherwise such
 * characters are dropped (data). Writes at most cap - 1 bytes and a NUL; returns the length.
 */
size_t norm_postcode(const char *s, size_t n, bool strict, char *out, size_t cap);

/*
 * Words that mark the parts of a free-text address that are not the address (data/dict/
 * segment.txt): the NORM_SEG_* kinds of the word s (any case and accents, punctuation and
 * spaces ignored: "c/o", "S.L.U.", "Personalabteilung" by its ending), 0 when it is none or
 * before norm_init().
 */
#define NORM_SEG_RECIPIENT  1u  /* opens a part naming a person ("c/o", "Attn", "z. Hd.") */
#define NORM_SEG_LEGAL      2u  /* a legal form ("GmbH", "Ltd", "S.L.") */
#define NORM_SEG_DEPARTMENT 4u  /* a department ("Abteilung", "Dept.") */
#define NORM_SEG_UNIT       8u  /* building, floor, door or unit text ("OG", "étage", "Esq.") */
#define NORM_SEG_BUILDING   16u /* opens a part naming a building ("Immeuble", "Edificio") */
#define NORM_SEG_CONTACT    32u /* opens a part of telephone or mail ("Tel.", "Fax", "E-Mail") */
#define NORM_SEG_POSTAL     64u /* a delivery mark that ends a part ("98000 Monaco CEDEX 4") */
unsigned norm_segment_word(const char *s, size_t len);

/* Return the ISO 3166-1 alpha-2 code (upper case) for an alpha-2, alpha-3 or English/native
 * country name in any case ("li", "LIE", "Liechtenstein"), or NULL when unknown. */
const char *norm_country(const char *in, size_t len);

/* norm_country() of the text that words [i, j) of w span, from their folded tokens. */
const char *norm_country_words(const struct norm_words *w, int i, int j);

/* Return the alpha-3 code and the English name for an alpha-2 code (any case), or NULL. */
const char *norm_country_iso3(const char *iso2);
const char *norm_country_name(const char *iso2);

/*
 * Regions (data/dict/regions.txt, read by norm_init()): the states, provinces, Länder, Austrian
 * Bundesländer and Swiss cantons that a name or abbreviation ("CA", "California", "Bayern",
 * "NSW", "SG") names, in any case and spelling of spaces and accents. With country (ISO2), only
 * that country's. Fills out[0..max) (one per country; "WA" is Washington and Western
 * Australia) and returns how many, 0 when none or before norm_init().
 */
struct norm_region {
    char country[3]; /* ISO2 */
    char code[4];    /* "CA", "BY", "NSW", "9" */
};
int norm_region(const char *in, size_t len, const char *country, struct norm_region *out, int max);

/* Whether in (len bytes) names a region of a country other than iso2, or than the country
 * iso2 is a territory of: "CA" (California) of Canada, "DE" (Delaware) of Germany; not "PR". */
bool norm_region_elsewhere(const char *in, size_t len, const char *iso2);

/* The ISO2 country that a postcode prefix names ("D" of "D-91207", "CH", "FL", "DEU"), or NULL
 * (regions.txt, and every ISO alpha-2 or alpha-3 code). */
const char *norm_postcode_prefix(const char *in, size_t len);

/* The region code of postcode pc (len bytes, as written) in country (ISO2) by its first digits
 * (regions.txt "postcodes" lines: "02139" and "02139-4307" are MA), or NULL when the table
 * does not say or pc is not of the country's length ("2139"). */
const char *norm_postcode_region(const char *country, const char *pc, size_t len);

/*
 * Territories (regions.txt "territory" lines): a region of country that ISO 3166-1 lists as a
 * country of its own, iso2 (Puerto Rico of the US). The data's records of it are filed under
 * iso2, as GeoNames, OpenStreetMap and HERE's answers do. norm_territory: iso2 (static) when
 * iso2 (its first two bytes) is such a territory of country, else NULL. norm_territory_of: whether
 * country has one. norm_postcode_territory: the territory whose postcode pc is by country's table
 * (norm_postcode_region: "00901" of the US is PR), else NULL.
 */
const char *norm_territory(const char *country, const char *iso2);
bool norm_territory_of(const char *country);
const char *norm_postcode_territory(const char *country, const char *pc, size_t len);

/* norm_init()'s step for regions.txt in dir. Return 0, -errno, or GB_EFORMAT. */
int norm_region_load(const char *dir);

/*
 * Return the languages with an abbreviation list spoken in a country, in priority order, as
 * codes separated by spaces ("de fr it" for CH), "" when none has a list, NULL when iso2 is
 * not a country. norm_name() uses all lists for "" and NULL.
 */
const char *norm_country_langs(const char *iso2);

#endif
