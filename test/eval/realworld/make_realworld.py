#!/usr/bin/python3
"""Real-world style query sets for geobatch, generated from ../shared/data (never copied).

Addresses are read from the OpenAddresses CSVs and the OSM extracts of several areas and
languages; each variant rewrites them by one rule of the way offices and shops write addresses
(issue 11, capabilities 1-4 and 10): a company or recipient line before the street, a glued
number (after a dot, a comma or the street's last word), an abbreviated or other-language street type, a dropped article, inline building/floor/
unit text (with and without commas), all capitals with the country name, numbers in the street name, slash numbers,
a typo in a short word, US directionals (abbreviated, expanded, left out), a US house number
written as a word. The rules know languages, never records.

Output (in OUT_DIR, the format of ../shared/eval so that its score.py scores it):
  <variant>.txt  HERE 6.2 free-form input (recId|searchText|country)
  truth.tsv      expected points per query
  inputs.txt     the data files the index must be built from (one a line, relative to DATA)

  make_realworld.py DATA_DIR OUT_DIR [--per-variant N] [--seed S]

Needs python3-pyosmium (Debian) for the OSM extracts; deterministic for a seed.
"""
import argparse, csv, math, os, random, re, sys, unicodedata
from collections import defaultdict

try:
    import osmium
except ImportError:  # pragma: no cover
    sys.exit('make_realworld.py: python3-pyosmium is needed (apt-get install python3-pyosmium)')

# area: (file under DATA, ISO3, language, country name as people write it)
# The index is built from the OSM extract of an OpenAddresses file derived from it (INDEX_OF).
INDEX_OF = {'openaddresses/li-liechtenstein-2026.csv': 'osm/liechtenstein-2026-03-29.osm.pbf',
            'openaddresses/de-lauf-2020.csv': 'osm/lauf-2020-01-15.osm.pbf',
            'openaddresses/cz-prague-ne-2020.csv': 'osm/prague-small-2020-01.osm.pbf'}
AREAS = [
    ('li', 'openaddresses/li-liechtenstein-2026.csv', 'LIE', 'de', 'Liechtenstein'),
    ('lauf', 'openaddresses/de-lauf-2020.csv', 'DEU', 'de', 'Deutschland'),
    ('prague', 'openaddresses/cz-prague-ne-2020.csv', 'CZE', 'cs', 'Česká republika'),
    ('sf', 'openaddresses/us-ca-san-francisco-excerpt.csv', 'USA', 'en-us', 'USA'),
    ('munich', 'osm/valhalla-bench-munchen.osm.pbf', 'DEU', 'de', 'Germany'),
    ('andorra', 'osm/valhalla-docker-andorra-latest.osm.pbf', 'AND', 'ca', 'Andorra'),
    ('porto', 'osm/valhalla-bench-porto.osm.pbf', 'PRT', 'pt', 'Portugal'),
    ('monaco', 'osm/nominatim-monaco-latest.osm.pbf', 'MCO', 'fr', 'Monaco'),
    ('london', 'osm/valhalla-bench-london.osm.pbf', 'GBR', 'en-gb', 'United Kingdom'),
    ('baltimore', 'osm/valhalla-baltimore.osm.pbf', 'USA', 'en-us', 'USA'),
]

# Street-type words as written in full and abbreviated (capability 1), first or last word.
TYPES = {
    'de': [(r'stra(ss|ß)e$', 'str.'), (r'gasse$', 'g.'), (r'platz$', 'pl.'), (r'^Sankt\b', 'St.')],
    'cs': [(r'^náměstí\b', 'nám.'), (r'^třída\b', 'tř.'), (r'^nábřeží\b', 'nábř.')],
    'ca': [(r'^Carrer\b', 'C/'), (r'^Avinguda\b', 'Av.'), (r'^Avinguda\b', 'Avda.'),
           (r'^Carretera\b', 'Ctra.'), (r'^Plaça\b', 'Pl.'), (r'^Passeig\b', 'Pg.'),
           (r'^Camí\b', 'Cm.'), (r'^Travessera\b', 'Trav.'), (r'^Carrer\b', 'Cl.')],
    'pt': [(r'^Rua\b', 'R.'), (r'^Avenida\b', 'Av.'), (r'^Praça\b', 'Pç.'), (r'^Praça\b', 'Pc.'),
           (r'^Largo\b', 'Lg.'), (r'^Travessa\b', 'Tv.'), (r'^Estrada\b', 'Estr.')],
    'fr': [(r'^Boulevard\b', 'Bd'), (r'^Boulevard\b', 'Bld'), (r'^Avenue\b', 'Av.'),
           (r'^Place\b', 'Pl.'), (r'^Impasse\b', 'Imp.'), (r'^Allée\b', 'All.'),
           (r'^Chemin\b', 'Chem.'), (r'^Route\b', 'Rte')],
    'en-gb': [(r'\bStreet$', 'St'), (r'\bRoad$', 'Rd'), (r'\bAvenue$', 'Ave'), (r'\bPlace$', 'Pl'),
              (r'\bSquare$', 'Sq'), (r'\bLane$', 'Ln'), (r'\bCourt$', 'Ct'), (r'\bTerrace$', 'Terr'),
              (r'\bGardens$', 'Gdns'), (r'\bCrescent$', 'Cres')],
    'en-us': [(r'\bStreet$', 'St'), (r'\bAvenue$', 'Ave'), (r'\bBoulevard$', 'Blvd'),
              (r'\bDrive$', 'Dr'), (r'\bRoad$', 'Rd'), (r'\bPlace$', 'Pl'), (r'\bCourt$', 'Ct'),
              (r'\bLane$', 'Ln'), (r'\bTerrace$', 'Ter'), (r'\bAlley$', 'Aly')],
}
# The same type in the other language of the country (a Catalan street with the Spanish word).
OTHER_LANG = {'ca': [(r'^Carrer\b', 'Calle'), (r'^Avinguda\b', 'Avenida'), (r'^Plaça\b', 'Plaza'),
                     (r'^Carretera\b', 'Carretera'), (r'^Passeig\b', 'Paseo'), (r'^Camí\b', 'Camino')]}
# Articles and prepositions inside names (capability 2): dropped from the query.
ARTICLES = {
    'de': r'\b(an der|am|im|von|der|des)\s+', 'cs': None,
    'ca': r"\b(de la|de les|dels|del|de l'|d'|de)\s*(?<=\s|')", 'pt': r'\b(dos|das|do|da|de)\s+',
    'fr': r"\b(de la|de l'|du|des|de|d')\s*(?<=\s|')", 'en-gb': r'\b(the|of)\s+', 'en-us': r'\b(the|of)\s+',
}
LEGAL = {'de': ['GmbH', 'AG', 'GmbH & Co. KG', 'e.K.'], 'cs': ['s.r.o.', 'a.s.'],
         'ca': ['SL', 'SA', 'S.L.U.'], 'pt': ['Lda', 'Lda.', 'SA'], 'fr': ['SARL', 'SA', 'SAS'],
         'en-gb': ['Ltd', 'LLP', 'plc'], 'en-us': ['Inc', 'LLC', 'Inc.', 'Corp.']}
COMPANY = {'de': ['Huber Treuhand', 'Bäckerei Frick', 'Meier Bau', 'Kaiser Elektro'],
           'cs': ['Novák stavby', 'Dvořák a syn'], 'ca': ['Construccions Pujol', 'Farmàcia Vila'],
           'pt': ['Silva & Filhos', 'Padaria Costa'], 'fr': ['Boulangerie Martin', 'Garage Dupont'],
           'en-gb': ['Smith & Jones', 'Baker Consulting'], 'en-us': ['Acme Widgets', 'Golden Gate Dental']}
RECIPIENT = {'de': ['z. Hd. Herrn Peter Büchel', 'c/o Anna Marxer', 'Frau Dr. med. Eva Ospelt', 'Herrn Hans Beck'],
             'cs': ['k rukám Jana Nováka', 'c/o Petr Svoboda'], 'ca': ['a/a Sr. Jordi Puig', 'c/o Marta Vidal'],
             'pt': ['A/C Sr. João Silva', 'c/o Ana Sousa'], 'fr': ['à l\'attention de M. Paul Martin', 'c/o Marie Durand'],
             'en-gb': ['Attn: Mr John Smith', 'c/o Sarah Brown', 'FAO Mrs Jane Doe'],
             'en-us': ['Attn: John Smith', 'c/o Mary Johnson', 'ATTN Accounts Payable']}
DEPARTMENT = {'de': ['Abteilung Buchhaltung', 'Personalabteilung'], 'cs': ['oddělení účetnictví'],
              'ca': ['Departament de Compres', 'Dept. Comptabilitat'], 'pt': ['Departamento Financeiro'],
              'fr': ['Service comptabilité', 'Direction des achats'],
              'en-gb': ['Accounts Department', 'Human Resources Dept'], 'en-us': ['Shipping Department', 'Dept. of Sales']}
# Inline building/floor/unit text, after the number (or, UK "Flat 2", before it).
UNIT_AFTER = {'de': ['2. OG', 'Stiege 2/Top 5', 'Whg. 4', '3. Stock', 'EG links'],
              'cs': ['byt 12', '3. patro'], 'ca': ['edifici C, 2n pis', '2n 4a', 'bloc A, 3r 1a', 'baixos'],
              'pt': ['3º Esq.', '2º Dto', 'r/c Esq.', '1º andar'], 'fr': ['bloc A, 5e étage', 'Bât. B', 'Apt 12, 3e étage'],
              'en-gb': ['Suite 4', 'Floor 2'], 'en-us': ['Apt 4B', 'Suite 210', '# 12', 'Unit 3']}
UNIT_BEFORE = {'en-gb': ['Flat 2', 'Flat 14B', 'Unit 5'], 'fr': ['Bât. C, Esc. 2']}
# A building's name in the address block, after the street (or before it), as letters carry it.
BUILDING = {'de': ['Gebäude B', 'Gebäude Nord'], 'ca': ['Edifici Areny', 'Edifici Els Arcs'],
            'pt': ['Edifício Atlântico', 'Edifício Central'],
            'fr': ['Immeuble Le Forum', 'Résidence Les Pins', 'Immeuble « Le Métropole »'],
            'cs': [], 'en-gb': [], 'en-us': []}
# Telephone, fax, mail and web lines of a letterhead's address block.
CONTACT = ['Tel. +{cc} {n1} {n2}', 'Tel.: {n1} {n2}', 'Fax +{cc} {n1} {n2}', '+{cc} {n1} {n2}',
           'E-Mail: info@example.com', 'www.example.com', 'Phone {n1}-{n2}']
DIAL = {'Liechtenstein': '423', 'Deutschland': '49', 'Germany': '49', 'Česká republika': '420',
        'USA': '1', 'Andorra': '376', 'Portugal': '351', 'Monaco': '377', 'United Kingdom': '44'}
# English street types a writer leaves out ("455 Franklin, San Francisco").
OMITTED = r'\s+(Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Place|Pl|Court|Ct|Way|Terrace|Ter)$'
# English ordinals and directionals (capability 10: "S Broadway").
US_DIRS = {'North': 'N', 'South': 'S', 'East': 'E', 'West': 'W'}


def fold(s):
    return ''.join(c for c in unicodedata.normalize('NFKD', s) if not unicodedata.combining(c))


def haversine(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(h)))


def read_oa(path):
    with open(path, newline='', encoding='utf-8') as f:
        for r in csv.DictReader(f):
            yield dict(lat=float(r['LAT']), lon=float(r['LON']), number=r['NUMBER'].strip(),
                       street=r['STREET'].strip(), city=r['CITY'].strip(), postcode=r['POSTCODE'].strip())


def read_osm(path):
    out = []

    class H(osmium.SimpleHandler):
        def take(self, tags, lat, lon):
            if 'addr:housenumber' in tags and 'addr:street' in tags:
                out.append(dict(lat=lat, lon=lon, number=tags['addr:housenumber'].strip(),
                                street=tags['addr:street'].strip(), city=tags.get('addr:city', '').strip(),
                                postcode=tags.get('addr:postcode', '').strip()))

        def node(self, n):
            if n.location.valid():
                self.take(n.tags, n.location.lat, n.location.lon)

        def way(self, w):
            pts = [(n.lat, n.lon) for n in w.nodes if n.location.valid()]
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts = pts[:-1]
            if pts:
                self.take(w.tags, sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))

    H().apply_file(path, locations=True)
    return out


def title_us(s):  # SF data is upper case: "MCALLISTER ST" → "Mcallister St"
    return ' '.join(w.lstrip('0').lower() if re.fullmatch(r'\d+\w*', w) else w.capitalize()
                    for w in s.split())


def number_ok(num, lang):
    if lang == 'cs':
        return re.fullmatch(r'\d+(/\d+[a-zA-Z]?)?', num)
    return re.fullmatch(r'\d+ ?[a-zA-Z]?', num)


def load(data, area):
    name, path, iso3, lang, cname = area
    full = os.path.join(data, path)
    rows = list(read_oa(full) if path.endswith('.csv') else read_osm(full))
    pts = defaultdict(list)  # (street, number) → points
    for r in rows:
        pts[(r['street'].casefold(), r['number'].replace(' ', '').lower())].append((r['lat'], r['lon']))
    addr = {}
    for r in rows:
        if not r['street'] or not number_ok(r['number'], lang):
            continue
        k = (r['street'].casefold(), r['number'].replace(' ', '').lower())
        p = pts[k]
        if max(haversine(p[0], q) for q in p) > 250:
            continue  # the same address far apart: a data error, not a query
        if k not in addr or (r['postcode'] and not addr[k]['postcode']):
            addr[k] = dict(r, points=p)
    out = sorted(addr.values(), key=lambda r: (r['street'], r['number']))
    if lang == 'en-us' and name == 'sf':
        for r in out:
            r['street'] = title_us(r['street'])
            r['city'] = title_us(r['city'])
    # how many streets of the area each name without its English type has (v_type_omitted)
    names = defaultdict(int)
    for s in {r['street'] for r in out}:
        names[re.sub(OMITTED, '', s).lower()] += 1
    for r in out:
        r['ambiguous_name'] = names
    return out


def locality(r, lang):
    pc, city = r['postcode'], r['city']
    if lang in ('en-us', 'en-gb'):
        return ', '.join(x for x in (city, pc) if x)
    return ' '.join(x for x in (pc, city) if x)


def street_number(street, number, lang):
    if lang in ('en-us', 'en-gb', 'fr'):
        return f'{number} {street}'
    return f'{street} {number}'


def plain(r, lang, street=None, number=None):
    s = street_number(street or r['street'], number or r['number'], lang)
    loc = locality(r, lang)
    return f'{s}, {loc}' if loc else s


def sub_first(rules, street):
    for pat, rep in rules:
        new = re.sub(pat, rep, street, count=1)
        if new != street:
            if rep.endswith('/'):
                new = new.replace('/ ', '/')
            return new
    return None


def v_abbrev_type(r, lang, rnd, cname):
    s = sub_first(TYPES.get(lang, []), r['street'])
    return s and plain(r, lang, street=s)


def v_other_lang_type(r, lang, rnd, cname):
    s = sub_first(OTHER_LANG.get(lang, []), r['street'])
    return s and plain(r, lang, street=s)


def v_article_dropped(r, lang, rnd, cname):
    pat = ARTICLES.get(lang)
    if not pat:
        return None
    words = r['street'].split()
    if len(words) < 3:
        return None
    head, rest = words[0], ' '.join(words[1:])
    new = re.sub(pat, '', rest, count=1, flags=re.I)
    if new == rest or not new.strip():
        return None
    return plain(r, lang, street=f'{head} {new}')


def v_company_line(r, lang, rnd, cname):
    kind = rnd.randrange(3)
    if kind == 0:
        first = f'{rnd.choice(COMPANY[lang])} {rnd.choice(LEGAL[lang])}'
    elif kind == 1:
        first = f'{rnd.choice(COMPANY[lang])} {rnd.choice(LEGAL[lang])}, {rnd.choice(DEPARTMENT[lang])}'
    else:
        first = f'{rnd.choice(COMPANY[lang])} {rnd.choice(LEGAL[lang])}, {rnd.choice(RECIPIENT[lang])}'
    return f'{first}, {plain(r, lang)}'


def v_glued_number(r, lang, rnd, cname):
    if lang in ('en-us', 'en-gb', 'fr'):
        return None
    s = sub_first(TYPES.get(lang, []), r['street']) or r['street']
    if not re.search(r'[./]$', s.split()[-1]) and lang != 'ca' and lang != 'pt':
        return None
    loc = locality(r, lang)
    glue = ',' if (s[-1] != '.' or rnd.random() < 0.5) else ''
    text = f'{s}{glue}{r["number"]}'.replace('/ ', '/')
    return f'{text},{loc}' if loc else text


def v_glued_word_number(r, lang, rnd, cname):
    """The number glued to the street's last word, with no dot or space: "Grasgarten15"."""
    if lang in ('en-us', 'en-gb', 'fr'):
        return None
    s = r['street']
    last = s.split()[-1]
    if len(last) < 4 or not last.isalpha() or not r['number'][:1].isdigit():
        return None
    loc = locality(r, lang)
    text = f'{s}{r["number"]}'
    return f'{text}, {loc}' if loc else text


NUMBER_WORDS = ['One', 'Two', 'Three', 'Four', 'Five', 'Six', 'Seven', 'Eight', 'Nine', 'Ten',
                'Eleven', 'Twelve', 'Thirteen', 'Fourteen', 'Fifteen', 'Sixteen', 'Seventeen',
                'Eighteen', 'Nineteen', 'Twenty']


def v_number_word(r, lang, rnd, cname):
    """A US house number of 1 to 20 written as a word, as buildings are named: "One Market
    Street"."""
    if lang != 'en-us' or not r['number'].isdigit() or not 1 <= int(r['number']) <= 20:
        return None
    return plain(r, lang, number=NUMBER_WORDS[int(r['number']) - 1])


def v_inline_unit(r, lang, rnd, cname):
    if lang in UNIT_BEFORE and rnd.random() < 0.5:
        return f'{rnd.choice(UNIT_BEFORE[lang])}, {plain(r, lang)}'
    unit = rnd.choice(UNIT_AFTER[lang])
    s = street_number(r['street'], r['number'], lang)
    loc = locality(r, lang)
    return f'{s}, {unit}, {loc}' if loc else f'{s}, {unit}'


def v_caps_country(r, lang, rnd, cname):
    return f'{plain(r, lang)}, {cname}'.upper()


def v_numbered_street(r, lang, rnd, cname):
    if not re.search(r'\d', r['street']):
        return None
    return plain(r, lang)


def v_number_forms(r, lang, rnd, cname):
    n = r['number']
    m = re.fullmatch(r'(\d+)(/\d+)?\s?([a-zA-Z])?', n)
    if not m or not (m.group(2) or m.group(3)):
        return None
    num = m.group(1) + (m.group(2) or '') + (' ' + m.group(3).upper() if m.group(3) else '')
    return plain(r, lang, number=num)


def v_typo_short(r, lang, rnd, cname):
    words = r['street'].split()
    cand = [i for i, w in enumerate(words) if 4 <= len(w) <= 5 and w.isalpha()]
    if not cand:
        return None
    i = rnd.choice(cand)
    w = words[i]
    j = rnd.randrange(1, len(w))
    w = w[:j] + w[j + 1:] if rnd.random() < 0.5 else w[:j] + w[j] + w[j:]
    words[i] = w
    return plain(r, lang, street=' '.join(words))


def v_inline_unit_bare(r, lang, rnd, cname):
    """The unit text inside the address line, without commas: "Hauptstrasse 5 Apt 4B Vaduz",
    "Carrer Major 5 3r 2a Andorra la Vella", "Flat 2 10 Downing Street"."""
    if lang in UNIT_BEFORE and rnd.random() < 0.5:
        return f'{rnd.choice(UNIT_BEFORE[lang]).replace(",", "")} {plain(r, lang)}'
    unit = rnd.choice(UNIT_AFTER[lang]).replace(',', '')
    s = street_number(r['street'], r['number'], lang)
    loc = locality(r, lang)
    return f'{s} {unit} {loc}' if loc else f'{s} {unit}'


def v_us_directional(r, lang, rnd, cname):
    if lang != 'en-us':
        return None
    w = r['street'].split()
    if w[0] not in US_DIRS:
        return None
    s = sub_first(TYPES['en-us'], r['street']) or r['street']
    return plain(r, lang, street=US_DIRS[w[0]] + s[len(w[0]):])


# The street names of the area being generated (main), for rules that must not turn one
# street's name into another's.
AREA_STREETS = set()


def v_us_directional_dropped(r, lang, rnd, cname):
    """A US street's leading directional left out ("501 Pratt Street" for East Pratt Street),
    where no street of the area has the name without it (South Van Ness Ave: Van Ness Ave)."""
    if lang != 'en-us':
        return None
    w = r['street'].split()
    rest = ' '.join(w[1:])
    if w[0] not in US_DIRS or len(w) < 3 or fold(rest) in AREA_STREETS:
        return None
    return plain(r, lang, street=rest)


def v_building_line(r, lang, rnd, cname):
    """A building's name as its own part after the street, or set off by a dash, or before
    the street: "28 Boulevard X – Immeuble « Le Forum », 98000 Monaco"."""
    if not BUILDING.get(lang):
        return None
    b = rnd.choice(BUILDING[lang])
    s = street_number(r['street'], r['number'], lang)
    loc = locality(r, lang)
    kind = rnd.randrange(3)
    line = f'{b}, {s}' if kind == 0 else f'{s} – {b}' if kind == 1 else f'{s}, {b}'
    return f'{line}, {loc}' if loc else line


def v_contact_line(r, lang, rnd, cname):
    """A telephone, fax, mail or web part after the address, as a letterhead has it."""
    c = rnd.choice(CONTACT).format(cc=DIAL[cname], n1=rnd.randrange(200, 999),
                                   n2=rnd.randrange(1000, 9999))
    return f'{plain(r, lang)}, {c}'


def v_type_omitted(r, lang, rnd, cname):
    """An English street without its type: "455 Franklin, San Francisco" (only where no other
    street of the area has that name with another type: the query names one street)."""
    if lang not in ('en-us', 'en-gb'):
        return None
    name = re.sub(OMITTED, '', r['street'])
    if name == r['street'] or not name.strip() or r.get('ambiguous_name', {}).get(name.lower(), 2) > 1:
        return None
    return plain(r, lang, street=name)


def copied(q, rnd):
    """The text as a copy from a web page or spreadsheet gives it: no-break or narrow no-break
    spaces for some spaces, a soft hyphen in a long word, full-width digits for the number."""
    out = []
    for ch in q:
        if ch == ' ' and rnd.random() < 0.5:
            ch = rnd.choice(['\u00a0', '\u202f', '\u2009'])
        out.append(ch)
    q = ''.join(out)
    words = q.split(' ')
    long = [i for i, w in enumerate(words) if len(w) >= 8 and w.isalpha()]
    if long and rnd.random() < 0.5:
        i = rnd.choice(long)
        words[i] = words[i][:4] + '\u00ad' + words[i][4:]
        q = ' '.join(words)
    if rnd.random() < 0.3:
        q = re.sub(r'\d', lambda m: chr(0xFF10 + int(m.group())), q, count=3)
    return q


# Words that announce the house number after the street, as each language writes them.
NUMBER_MARKS = {'de': ['Nr.', 'Nr', 'Nummer'], 'fr': ['n°', 'N°'], 'pt': ['nº', 'n.º', 'N.º'],
                'ca': ['núm.', 'nº', 'n.'], 'cs': ['č.']}


def v_number_marker(r, lang, rnd, cname):
    """The number announced by a word, spaced or glued: "Rua de Cedofeita, nº11", "Boulevard des
    Moulins n° 27", "Hildegardstraße Nr5"."""
    marks = NUMBER_MARKS.get(lang)
    if not marks or (lang == 'cs' and '/' in r['number']):
        return None
    mark = rnd.choice(marks)
    sep = '' if rnd.random() < 0.5 and mark != 'Nummer' else ' '
    comma = ',' if rnd.random() < 0.5 else ''
    s = f"{r['street']}{comma} {mark}{sep}{r['number']}"
    loc = locality(r, lang)
    return f'{s}, {loc}' if loc else s


def v_copied_text(r, lang, rnd, cname):
    return plain(r, lang)


VARIANTS = [('abbrev_type', v_abbrev_type), ('other_lang_type', v_other_lang_type),
            ('article_dropped', v_article_dropped), ('company_line', v_company_line),
            ('glued_number', v_glued_number), ('inline_unit', v_inline_unit),
            ('inline_unit_bare', v_inline_unit_bare),
            ('caps_country', v_caps_country), ('numbered_street', v_numbered_street),
            ('number_forms', v_number_forms), ('typo_short', v_typo_short),
            ('us_directional', v_us_directional),
            ('us_directional_dropped', v_us_directional_dropped),
            ('glued_word_number', v_glued_word_number),
            ('number_word', v_number_word), ('building_line', v_building_line),
            ('contact_line', v_contact_line), ('type_omitted', v_type_omitted),
            ('copied_text', v_copied_text), ('number_marker', v_number_marker)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('data')
    ap.add_argument('out')
    ap.add_argument('--per-variant', type=int, default=60, help='queries per area and variant')
    ap.add_argument('--seed', type=int, default=11)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    files = {v: open(os.path.join(a.out, v + '.txt'), 'w', encoding='utf-8') for v, _ in VARIANTS}
    for f in files.values():
        f.write('recId|searchText|country\n')
    truth = open(os.path.join(a.out, 'truth.tsv'), 'w', encoding='utf-8')
    truth.write('recId\tvariant\tkind\tquery\texpected_points\texpected_level\tstreet_bbox\tarea\n')
    with open(os.path.join(a.out, 'inputs.txt'), 'w') as f:
        for area in AREAS:
            f.write(INDEX_OF.get(area[1], area[1]) + '\n')
    counts = defaultdict(int)
    for area in AREAS:
        name, _, iso3, lang, cname = area
        rows = load(a.data, area)
        AREA_STREETS.clear()
        AREA_STREETS.update(fold(r['street']) for r in rows)
        for vi, (variant, fn) in enumerate(VARIANTS):
            rnd = random.Random(f'{a.seed}/{name}/{variant}')
            order = list(range(len(rows)))
            rnd.shuffle(order)
            k = 0
            for i in order:
                if k >= a.per_variant:
                    break
                r = rows[i]
                q = fn(r, lang, rnd, cname)
                if not q:
                    continue
                q = ' '.join(q.replace('|', ' ').split())
                if variant == 'copied_text':
                    q = copied(q, rnd)
                rid = f'{name}-{variant}-{k:04d}'
                country = '' if variant == 'caps_country' else iso3
                files[variant].write(f'{rid}|{q}|{country}\n')
                p = ';'.join(f'{la:.7f},{lo:.7f}' for la, lo in r['points'])
                truth.write(f'{rid}\t{variant}\tpos\t{q}\t{p}\thouseNumber\t\t{name}\n')
                k += 1
            counts[variant] += k
    for f in files.values():
        f.close()
    truth.close()
    for v, _ in VARIANTS:
        print(f'{v}\t{counts[v]}')


if __name__ == '__main__':
    main()
