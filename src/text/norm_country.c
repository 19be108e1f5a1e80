/*
 * norm_country.c - ISO 3166-1 countries: codes, English names, other names, spoken languages.
 *
 * norm_country() turns whatever a client writes in a country field ("li", "LIE",
 * "Liechtenstein", "Deutschland", "Česko", "USA", "U.K.") into the alpha-2 code. The table is
 * compiled in: the 249 ISO 3166-1 entries plus Kosovo (XK, user-assigned but in common use),
 * taken from Debian's iso-codes (iso_3166-1.json and its translations into the languages that
 * have an abbreviation list), with a few common aliases added by hand. Names are compared after
 * norm_fold() with the spaces removed, so case, accents, punctuation and spacing do not matter;
 * a name that two countries share would have been left out.
 *
 * The language column says which abbreviation lists norm_name() uses for a country (see norm.c);
 * it names only languages that have a list in data/dict.
 *
 * THREADS: the lookup tables are built once (pthread_once) on first use and only read after.
 */
#include "text/norm.h"
#include "base/hash.h"
#include "base/mem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct country {
    char a2[3];
    char a3[4];
    const char *name;    /* English short name */
    const char *langs;   /* languages with a list, in priority order */
    const char *aliases; /* other names, separated by '|' */
};

static const struct country countries[] = {
    {"AD", "AND", "Andorra", "ca es fr", "Andora|Andorre|Principality of Andorra"},
    {"AE", "ARE", "United Arab Emirates", "",
     "De forente arabiske emirater|Emirados Árabes Unidos|Emirati Arabi Uniti|Emiratos Árabes "
     "Unidos|Forenede Arabiske Emirater|Förenade Arabemiraten|Spojené arabské emiráty|Vereinigte "
     "Arabische Emirate|Verenigde Arabische Emiraten|Zjednoczone Emiraty Arabskie|Émirats arabes "
     "unis"},
    {"AF", "AFG", "Afghanistan", "", "Afeganistão|Afganistan|Islamic Republic of Afghanistan"},
    {"AG", "ATG", "Antigua and Barbuda", "",
     "Antigua en Barbuda|Antigua i Barbuda|Antigua och Barbuda|Antigua og Barbuda|Antigua und "
     "Barbuda|Antigua y Barbuda|Antigua-et-Barbuda|Antígua e Barbuda"},
    {"AI", "AIA", "Anguilla", "", "Anguila"},
    {"AL", "ALB", "Albania", "", "Albanien|Albanië|Republic of Albania"},
    {"AM", "ARM", "Armenia", "", "Armenien|Armenië|Republic of Armenia"},
    {"AO", "AGO", "Angola", "pt", "Republic of Angola"},
    {"AQ", "ATA", "Antarctica", "",
     "Antarctique|Antarktida|Antarktika|Antarktis|Antarktyka|Antartide|Antártida"},
    {"AR", "ARG", "Argentina", "es",
     "Argentine|Argentine Republic|Argentinien|Argentinië|Argentyna"},
    {"AS", "ASM", "American Samoa", "en",
     "Americká Samoa|Amerikaans-Samoa|Amerikanisch-Samoa|Amerikansk Samoa|Amerikanska Samoa|Samoa "
     "Americana|Samoa Amerykańskie|Samoa Estadounidense|Samoa americane|Samoa américaines"},
    {"AT", "AUT", "Austria", "de",
     "Autriche|Oostenrijk|Rakousko|Republic of Austria|Republik "
     "Österreich|Österreich|Österrike|Østrig"},
    {"AU", "AUS", "Australia", "en", "Australien|Australië"},
    {"AW", "ABW", "Aruba", "nl", ""},
    {"AX", "ALA", "Åland Islands", "sv",
     "Ilhas Alanda|Islas Äland|Isole Åland|Wyspy Alandzkie|Åland|Åland, "
     "Îles|Åland-Inseln|Ålandseilanden|Ålandské ostrovy"},
    {"AZ", "AZE", "Azerbaijan", "",
     "Aserbaidschan|Aserbajdsjan|Azerbaigian|Azerbaijão|Azerbaiyán|Azerbajdzjan|Azerbaïdjan|"
     "Azerbeidzjan|Azerbejdżan|Republic of Azerbaijan|Ázerbájdžán"},
    {"BA", "BIH", "Bosnia and Herzegovina", "",
     "Bosna a Hercegovina|Bosnia y "
     "Herzegovina|Bosnia-Erzegovina|Bosnia-Hercegovina|Bosnie-Herzégovine|Bosnien und "
     "Herzegowina|Bosnien-Hercegovina|Bosnië en Herzegovina|Bośnia i Hercegowina|Bósnia e "
     "Herzegovina|Republic of Bosnia and Herzegovina"},
    {"BB", "BRB", "Barbados", "en", "Barbade"},
    {"BD", "BGD", "Bangladesh", "",
     "Bangladeche|Bangladesch|Bangladesz|Bangladés|People's Republic of Bangladesh"},
    {"BE", "BEL", "Belgium", "nl fr de",
     "Belgia|Belgien|Belgio|Belgique|België|Bélgica|Kingdom of Belgium"},
    {"BF", "BFA", "Burkina Faso", "fr", "Burquina Faso"},
    {"BG", "BGR", "Bulgaria", "", "Bulgarie|Bulgarien|Bulgarije|Bulharsko|Republic of Bulgaria"},
    {"BH", "BHR", "Bahrain", "", "Bahrajn|Bahrein|Baréin|Barém|Kingdom of Bahrain"},
    {"BI", "BDI", "Burundi", "", "Republic of Burundi"},
    {"BJ", "BEN", "Benin", "fr", "Benim|Republic of Benin"},
    {"BL", "BLM", "Saint Barthélemy", "fr", "San Bartolomé|Sankt Bartolomæus|Svatý Bartoloměj"},
    {"BM", "BMU", "Bermuda", "en", "Bermudas|Bermudes|Bermudy|Islas Bermudas"},
    {"BN", "BRN", "Brunei Darussalam", "", "Brunei|Brunej|Państwo Brunei"},
    {"BO", "BOL", "Bolivia", "es",
     "Bolivia, Den Plurinationale Stat|Bolivia, Estado plurinacional de|Bolivia, Multinationale "
     "Staat|Bolivia, Mångnationella staten|Bolivia, Plurinational State of|Bolivia, Stato "
     "Plurinazionale della|Bolivia, den flernasjonale stat|Bolivie, état plurinational "
     "de|Bolivien, Plurinationaler Staat|Boliwia - Wielonarodowe Państwo|Bolívia, Estado "
     "Plurinacional da|Mnohonárodní stát Bolívie|Plurinational State of Bolivia"},
    {"BQ", "BES", "Bonaire, Sint Eustatius and Saba", "nl",
     "Bonaire, Saint-Eustache et Saba|Bonaire, Santo Eustáquio e Saba|Bonaire, Sint Eustatius en "
     "Saba|Bonaire, Sint Eustatius i Saba|Bonaire, Sint Eustatius och Saba|Bonaire, Sint Eustatius "
     "og Saba|Bonaire, Sint Eustatius und Saba|Bonaire, Svatý Eustach a Saba|Islas BES (Caribe "
     "Neerlandés)|Paesi Bassi caraibici"},
    {"BR", "BRA", "Brazil", "pt",
     "Brasil|Brasile|Brasilien|Brazylia|Brazílie|Brésil|Federative Republic of Brazil"},
    {"BS", "BHS", "Bahamas", "en", "Bahamy|Commonwealth of the Bahamas|The Bahamas"},
    {"BT", "BTN", "Bhutan", "", "Bhoutan|Bután|Butão|Kingdom of Bhutan"},
    {"BV", "BVT", "Bouvet Island", "",
     "Bouvet-Insel|Bouvet-øen|Bouveteiland|Bouvetøya|Bouvetův ostrov|Ilha Bouvet|Isla Bouvet|Isola "
     "Bouvet|Wyspa Bouveta|île Bouvet"},
    {"BW", "BWA", "Botswana", "", "Botsuana|Republic of Botswana"},
    {"BY", "BLR", "Belarus", "",
     "Białoruś|Bielorrusia|Bielorussia|Bělorusko|Hviderusland|Hviterussland|Republic of "
     "Belarus|Vitryssland|Wit-Rusland"},
    {"BZ", "BLZ", "Belize", "en", "Belice"},
    {"CA", "CAN", "Canada", "en fr", "Kanada"},
    {"CC", "CCK", "Cocos (Keeling) Islands", "",
     "Cocos (Keeling), Îles|Cocoseilanden (Keelingeilanden)|Cocosøerne (Keelingøerne)|Ilhas "
     "Cocos|Islas Cocos (Keeling)|Isole Cocos (Keeling)|Kokos-(Keeling-)Inseln|Kokosové "
     "ostrovy|Kokosöarna|Kokosøyene|Wyspy Kokosowe (Wyspy Keelinga)"},
    {"CD", "COD", "Congo, The Democratic Republic of the", "fr",
     "Congo, Democratische Republiek|Congo, República Democrática del|Congo, República Democrática "
     "do|Demokratische Republik Kongo|Den Demokratiske Republik Congo|Kongo, Demokratyczna "
     "Republika Konga|Kongo, Den demokratiske republikk|Kongo, demokratiska republiken|Konžská "
     "demokratická republika|Repubblica democratica del Congo|République démocratique du Congo"},
    {"CF", "CAF", "Central African Republic", "",
     "Centraal-Afrikaanse Republiek|Centralafrikanska republiken|Centralafrikanske Republik|Den "
     "sentralafrikanske republikk|Repubblica Centrafricana|Republika Środkowoafrykańska|República "
     "Centroafricana|République centrafricaine|Středoafrická republika|Zentralafrikanische "
     "Republik"},
    {"CG", "COG", "Congo", "fr", "Kongo|Republic of the Congo|République du Congo"},
    {"CH", "CHE", "Switzerland", "de fr it",
     "Confoederatio Helvetica|Schweiz|Schweizerische "
     "Eidgenossenschaft|Suisse|Suiza|Suíça|Sveits|Svizra|Svizzera|Swiss "
     "Confederation|Szwajcaria|Zwitserland|Švýcarsko"},
    {"CI", "CIV", "Côte d'Ivoire", "fr",
     "Costa d'Avorio|Costa de Marfíl|Costa do "
     "Marfim|Elfenbenskusten|Elfenbenskysten|Ivoorkust|Ivory Coast|Pobřeží slonoviny|Republic of "
     "Côte d'Ivoire|Wybrzeże Kości Słoniowej"},
    {"CK", "COK", "Cook Islands", "",
     "Cookeilanden|Cookinseln|Cookovy ostrovy|Cooköarna|Cookøerne|Cookøyene|Ilhas Cook|Islas "
     "Cook|Isole Cook|Wyspy Cooka|îles Cook"},
    {"CL", "CHL", "Chile", "es", "Chili|Cile|Republic of Chile"},
    {"CM", "CMR", "Cameroon", "fr en",
     "Camarões|Cameroun|Camerún|Kameroen|Kamerun|Republic of Cameroon"},
    {"CN", "CHN", "China", "", "Chine|Chiny|Cina|Kina|PRC|People's Republic of China"},
    {"CO", "COL", "Colombia", "es", "Colombie|Kolumbia|Kolumbie|Kolumbien|Republic of Colombia"},
    {"CR", "CRI", "Costa Rica", "es", "Kostarika|Kostaryka|Republic of Costa Rica"},
    {"CU", "CUB", "Cuba", "es", "Kuba|Republic of Cuba"},
    {"CV", "CPV", "Cabo Verde", "pt",
     "Cap-Vert|Cape Verde|Capo Verde|Kaapverdië|Kap Verde|Kapp Verde|Kapverdské ostrovy|Republic "
     "of Cabo Verde|Republika Zielonego Przylądka"},
    {"CW", "CUW", "Curaçao", "nl", "Curazao"},
    {"CX", "CXR", "Christmas Island", "",
     "Christmas, Île|Christmaseiland|Christmasøya|Ilha Natal|Isla de Navidad|Isola di "
     "Natale|Juleøen|Julön|Vánoční ostrov|Weihnachtsinseln|Wyspa Bożego Narodzenia"},
    {"CY", "CYP", "Cyprus", "",
     "Chipre|Chypre|Cipro|Cypern|Cypr|Kypr|Kypros|Republic of Cyprus|Zypern"},
    {"CZ", "CZE", "Czechia", "cs",
     "Cechia|Chequia|Czech Republic|Czechy|Tchéquie|Tjeckien|Tjekkiet|Tschechien|Tschechische "
     "Republik|Tsjechië|Tsjekkia|Česko|Česká republika"},
    {"DE", "DEU", "Germany", "de",
     "Alemanha|Alemania|Allemagne|BRD|Bundesrepublik Deutschland|Deutschland|Duitsland|Federal "
     "Republic of Germany|Germania|Niemcy|Německo|Tyskland"},
    {"DJ", "DJI", "Djibouti", "", "Dschibuti|Dżibuti|Džibutsko|Gibuti|Republic of Djibouti|Yibuti"},
    {"DK", "DNK", "Denmark", "da",
     "Dania|Danimarca|Danmark|Denemarken|Dinamarca|Dánsko|Dänemark|Kingdom of Denmark"},
    {"DM", "DMA", "Dominica", "", "Commonwealth of Dominica|Dominika|Dominique"},
    {"DO", "DOM", "Dominican Republic", "es",
     "Den dominikanske republikk|Dominicaanse Republiek|Dominikanische Republik|Dominikanska "
     "republiken|Dominikanske Republik|Dominikánská republika|Repubblica Dominicana|Republika "
     "Dominikańska|República Dominicana|République dominicaine"},
    {"DZ", "DZA", "Algeria", "fr",
     "Algerie|Algerien|Algeriet|Algerije|Algieria|Alžírsko|Argélia|People's Democratic Republic of "
     "Algeria"},
    {"EC", "ECU", "Ecuador", "es", "Ekvádor|Ekwador|Equador|Republic of Ecuador|Équateur"},
    {"EE", "EST", "Estonia", "", "Eesti|Estland|Estonie|Estonsko|Republic of Estonia"},
    {"EG", "EGY", "Egypt", "",
     "Arab Republic of Egypt|Egipt|Egipto|Egito|Egitto|Egypten|Ägypten|Égypte"},
    {"EH", "ESH", "Western Sahara", "",
     "Saara Ocidental|Sahara Occidental|Sahara Zachodnia|Sahara "
     "occidentale|Vestsahara|Västsahara|Westelijke Sahara|Westsahara|Západní Sahara"},
    {"ER", "ERI", "Eritrea", "", "Eritreia|Erytrea|the State of Eritrea|Érythrée"},
    {"ES", "ESP", "Spain", "es ca",
     "Espagne|Espanha|España|Hiszpania|Kingdom of Spain|Spagna|Spania|Spanien|Spanje|Španělsko"},
    {"ET", "ETH", "Ethiopia", "",
     "Etiopie|Etiopien|Etiópia|Federal Democratic Republic of Ethiopia|Äthiopien|Éthiopie"},
    {"FI", "FIN", "Finland", "sv", "Finlande|Finlandia|Finnland|Finsko|Republic of Finland|Suomi"},
    {"FJ", "FJI", "Fiji", "", "Fidji|Fidschi|Fidżi|Figi|Fiyi|Republic of Fiji"},
    {"FK", "FLK", "Falkland Islands (Malvinas)", "",
     "Falkandské ostrovy (Malvíny)|Falklandeilanden (Malvinas)|Falklandinseln "
     "(Malwinen)|Falklandsöarna (Malvinas)|Falklandsøerne (Malvinas)|Falklandsøyene|Falklandy "
     "(Malwiny)|Ilhas Falkland (Malvinas)|Islas Falkland (Malvinas)|Isole Falkland "
     "(Malvine)|Malouines, Îles (Falkland)"},
    {"FM", "FSM", "Micronesia, Federated States of", "",
     "Federated States of Micronesia|Micronesia|Micronesia, Estados Federados de|Micronésia, "
     "Estados Federados da|Micronésie, États fédérés de|Mikronesia, Føderasjonen|Mikronesien, "
     "Föderierte Staaten von|Mikronesien, federala staterna|Mikronesiens Forenede "
     "Stater|Mikronezja|Mikronésie, federativní státy"},
    {"FO", "FRO", "Faroe Islands", "da",
     "Faerské ostrovy|Faeröer|Färöarna|Färöer-Inseln|Færøerne|Færøyene|Ilhas Faroé|Islas "
     "Feroe|Isole Fær Øer|Wyspy Owcze|îles Féroé"},
    {"FR", "FRA", "France", "fr",
     "Francia|Francie|Francja|Frankreich|Frankrig|Frankrijk|Frankrike|França|French "
     "Republic|République française"},
    {"GA", "GAB", "Gabon", "fr", "Gabonese Republic|Gabun|Gabão"},
    {"GB", "GBR", "United Kingdom", "en",
     "Britain|England|Förenade kungariket|Great Britain|Grossbritannien|Northern Ireland|Regno "
     "Unito|Reino Unido|Royaume-Uni|Scotland|Spojené "
     "království|Storbritannia|Storbritannien|UK|United Kingdom of Great Britain and Northern "
     "Ireland|Vereinigtes Königreich|Verenigd Koninkrijk|Wales|Wielka Brytania"},
    {"GD", "GRD", "Grenada", "", "Granada|Grenade"},
    {"GE", "GEO", "Georgia", "", "Georgien|Gruzie|Gruzja|Géorgie"},
    {"GF", "GUF", "French Guiana", "fr",
     "Francouzská Guayana|Frans-Guyana|Fransk Guyana|Franska Guyana|Französisch-Guyana|Guayana "
     "Francesa|Guiana Francesa|Gujana Francuska|Guyana francese|Guyane française"},
    {"GG", "GGY", "Guernsey", "en", "Guernesey"},
    {"GH", "GHA", "Ghana", "en", "Gana|Republic of Ghana"},
    {"GI", "GIB", "Gibraltar", "", "Gibilterra"},
    {"GL", "GRL", "Greenland", "da", "Grenlandia|Groenlandia|Gronelândia|Grónsko|Grönland"},
    {"GM", "GMB", "Gambia", "", "Gambie|Republic of the Gambia|The Gambia"},
    {"GN", "GIN", "Guinea", "", "Guiné|Guinée|Gwinea|Republic of Guinea"},
    {"GP", "GLP", "Guadeloupe", "fr", "Guadalupa|Guadalupe|Gwadelupa"},
    {"GQ", "GNQ", "Equatorial Guinea", "es",
     "Ekvatorial-Guinea|Guinea Ecuatorial|Guinea equatoriale|Guiné Equatorial|Guinée "
     "Équatoriale|Gwinea Równikowa|Republic of Equatorial Guinea|Rovníková "
     "Guinea|Äquatorialguinea|Ækvatorialguinea"},
    {"GR", "GRC", "Greece", "",
     "Ellada|Grecia|Grecja|Grekland|Griechenland|Griekenland|Grækenland|Grèce|Hellas|Hellenic "
     "Republic|Řecko"},
    {"GS", "SGS", "South Georgia and the South Sandwich Islands", "",
     "Georgia Południowa i Sandwich Południowy|Georgia del Sud e Isole Sandwich Australi|Géorgie "
     "du Sud et les îles Sandwich du Sud|Ilhas Geórgia do Sul e Sandwich do Sul|Islas Georgias del "
     "Sur y Sándwich del Sur|Jižní Georgie a Jižní Sandwichovy ostrovy|South Georgia og De Sydlige "
     "Sandwichøer|South Georgia und die Südlichen Sandwichinseln|Sydgeorgien och södra "
     "Sandwichöarna|Sør-Georgia og Sør-Sandwichøyene|Zuid-Georgia en de Zuidelijke "
     "Sandwicheilanden"},
    {"GT", "GTM", "Guatemala", "es", "Gwatemala|Republic of Guatemala"},
    {"GU", "GUM", "Guam", "en", ""},
    {"GW", "GNB", "Guinea-Bissau", "pt",
     "Guinea-Bisáu|Guinee-Bissau|Guiné-Bissáu|Gwinea Bissau|Republic of Guinea-Bissau"},
    {"GY", "GUY", "Guyana", "", "Guiana|Gujana|Republic of Guyana"},
    {"HK", "HKG", "Hong Kong", "", "Hong Kong Special Administrative Region of China"},
    {"HM", "HMD", "Heard Island and McDonald Islands", "",
     "Heard und McDonaldinseln|Heard- og McDonaldøyene|Heard-øen og McDonald-øerne|Heardeiland en "
     "McDonaldeilanden|Heardön och McDonaldöarna|Heardův a McDonaldovy ostrovy|Ilha Heard e Ilhas "
     "McDonald|Islas Heard y McDonald|Isole Heard e McDonald|Wyspy Heard i McDonalda|îles "
     "Heard-et-MacDonald"},
    {"HN", "HND", "Honduras", "es", "Republic of Honduras"},
    {"HR", "HRV", "Croatia", "",
     "Chorvatsko|Chorwacja|Croacia|Croatie|Croazia|Hrvatska|Kroatia|Kroatien|Kroatië|Republic of "
     "Croatia"},
    {"HT", "HTI", "Haiti", "fr", "Republic of Haiti"},
    {"HU", "HUN", "Hungary", "",
     "Hongarije|Hongrie|Hungría|Magyarország|Maďarsko|Ungarn|Ungern|Ungheria|Węgry"},
    {"ID", "IDN", "Indonesia", "", "Indonesien|Indonesië|Indonezja|Republic of Indonesia"},
    {"IE", "IRL", "Ireland", "en", "Ierland|Irland|Irlanda|Irlande|Irlandia|Irsko|Éire"},
    {"IL", "ISR", "Israel", "", "Israele|Izrael|State of Israel"},
    {"IM", "IMN", "Isle of Man", "en",
     "Eiland Man|Ilha de Man|Insel Man|Isla de Man|Isola di Man|Ostrov Man|Wyspa Man|Île de Man"},
    {"IN", "IND", "India", "en", "Inde|Indie|Indien|Republic of India"},
    {"IO", "IOT", "British Indian Ocean Territory", "",
     "Britisches Territorium im Indischen Ozean|Brits Indische Oceaanterritorium|Britské "
     "indickooceánské území|Brittiskt territorium i Indiska Oceanen|Brytyjskie Terytorium Oceanu "
     "Indyjskiego|Det britiske territoriet i Indiahavet|Det britiske territorium i Det Indiske "
     "Ocean|Territoire britannique de l'océan Indien|Territorio Británico del Océano "
     "Índico|Territorio britannico dell'Oceano Indiano|Território Britânico do Oceano Índico"},
    {"IQ", "IRQ", "Iraq", "", "Iraque|Irák|Republic of Iraq"},
    {"IR", "IRN", "Iran", "",
     "Iran, Den Islamiske Republik|Iran, Den islamske republikk|Iran, Islamic Republic of|Iran, "
     "Islamische Republik|Iran, Islamska Republika|Iran, République islamique d'|Iran, islamiska "
     "republiken|Irán, República islámica de|Irão, República Islâmica do|Islamic Republic of Iran"},
    {"IS", "ISL", "Iceland", "", "IJsland|Island|Islanda|Islande|Islandia|Republic of Iceland"},
    {"IT", "ITA", "Italy", "it", "Italia|Italian Republic|Italie|Italien|Włochy"},
    {"JE", "JEY", "Jersey", "en", ""},
    {"JM", "JAM", "Jamaica", "en", "Giamaica|Jamaika|Jamajka|Jamaïque"},
    {"JO", "JOR", "Jordan", "",
     "Giordania|Hashemite Kingdom of Jordan|Jordanien|Jordanië|Jordánsko|Jordânia"},
    {"JP", "JPN", "Japan", "", "Giappone|Japon|Japonia|Japonsko|Japão|Nihon|Nippon"},
    {"KE", "KEN", "Kenya", "en", "Kenia|Keňa|Quénia|Republic of Kenya"},
    {"KG", "KGZ", "Kyrgyzstan", "",
     "Kirghizistan|Kirgisistan|Kirgistan|Kirgizistan|Kirgizië|Kirguistán|Kyrgyz "
     "Republic|Quirguistão"},
    {"KH", "KHM", "Cambodia", "",
     "Cambodge|Cambodja|Cambogia|Camboja|Camboya|Kambodja|Kambodscha|Kambodsja|Kambodża|Kingdom of "
     "Cambodia"},
    {"KI", "KIR", "Kiribati", "", "Republic of Kiribati"},
    {"KM", "COM", "Comoros", "",
     "Comore|Comoren|Comorerna|Comorerne|Comores|Comores, Islas|Komoren|Komorene|Komory|Union of "
     "the Comoros"},
    {"KN", "KNA", "Saint Kitts and Nevis", "",
     "Saint Kitts e Nevis|Saint Kitts en Nevis|Saint Kitts i Nevis|Saint Kitts og "
     "Nevis|Saint-Christophe-et-Niévès|San Cristóbal y Nieves|Sankt Kitts och Nevis|Sankt Kitts og "
     "Nevis|St. Kitts und Nevis|Svatý Kryštof a Nevis|São Cristóvão e Nevis"},
    {"KP", "PRK", "North Korea", "",
     "Corea del Nord|Corea, República Democrática Popular de|Coreia, República Popular Democrática "
     "da|Corée, République populaire démocratique de|Democratic People's Republic of Korea|Korea - "
     "Republika Ludowo-Demokratyczna|Korea, Democratic People's Republic of|Korea, Democratische "
     "Volksrepubliek|Korea, Demokratische Volksrepublik|Korea, Den Demokratiske "
     "Folkerepublik|Korea, Den demokratiske folkerepublikk|Korea, demokratiska "
     "folkrepubliken|Korea, lidově demokratická republika"},
    {"KR", "KOR", "South Korea", "",
     "Corea del sud|Corea, República de|Coreia, República da|Corée, République de|Korea|Korea, "
     "Republic of|Korea, Republiek|Korea, Republik|Korea, Republikken|Korea, republika|Republic of "
     "Korea|Republika Korei|Sydkorea"},
    {"KW", "KWT", "Kuwait", "", "Koeweit|Kuvajt|Kuwejt|State of Kuwait"},
    {"KY", "CYM", "Cayman Islands", "",
     "Cayman-Inseln|Caymanöarna|Caymanøerne|Caymanøyene|Ilhas Caimão|Islas Caimán|Isole "
     "Cayman|Kaaimaneilanden|Kajmanské ostrovy|Kajmany|îles Caïmans"},
    {"KZ", "KAZ", "Kazakhstan", "",
     "Cazaquistão|Kasachstan|Kasakhstan|Kazachstán|Kazajistán|Kazakistan|Kazakstan|Republic of "
     "Kazakhstan"},
    {"LA", "LAO", "Laos", "",
     "Demokratiska folkrepubliken Lao|Den demokratiske folkerepublikk Laos|Lao People's Democratic "
     "Republic|Lao, Folkets Demokratiske Republik|Lao, République démocratique populaire|Laos "
     "Democratische Volksrepubliek|Laos, Demokratische Volksrepublik|Laoská lidově demokratická "
     "republika|Laotańska Republika Ludowo-Demokratyczna|República Democrática Popular de "
     "Lao|República Democrática Popular do Laos"},
    {"LB", "LBN", "Lebanon", "", "Lebanese Republic|Liban|Libanon|Líbano"},
    {"LC", "LCA", "Saint Lucia", "", "Sainte-Lucie|Sankt Lucia|Santa Lucía|St. Lucia|Svatá Lucie"},
    {"LI", "LIE", "Liechtenstein", "de",
     "Fürstentum Liechtenstein|Lichtenštejnsko|Principality of Liechtenstein"},
    {"LK", "LKA", "Sri Lanka", "", "Democratic Socialist Republic of Sri Lanka"},
    {"LR", "LBR", "Liberia", "", "Libérie|Republic of Liberia"},
    {"LS", "LSO", "Lesotho", "", "Kingdom of Lesotho|Lesoto"},
    {"LT", "LTU", "Lithuania", "",
     "Lietuva|Litauen|Litouwen|Lituanie|Lituânia|Litva|Litwa|Republic of Lithuania"},
    {"LU", "LUX", "Luxembourg", "fr de",
     "Grand Duchy of "
     "Luxembourg|Lucembursko|Luksemburg|Lussemburgo|Luxemburg|Luxemburgo|Lëtzebuerg"},
    {"LV", "LVA", "Latvia", "",
     "Latvija|Letland|Letonia|Lettland|Lettonia|Lettonie|Lotyšsko|Republic of Latvia|Łotwa"},
    {"LY", "LBY", "Libya", "", "Libië|Libye|Libyen|Líbia"},
    {"MA", "MAR", "Morocco", "fr",
     "Kingdom of Morocco|Maroc|Marocco|Marocko|Marokko|Maroko|Marrocos|Marruecos"},
    {"MC", "MCO", "Monaco", "fr", "Monako|Principality of Monaco"},
    {"MD", "MDA", "Moldova", "",
     "Moldau, Republik|Moldavia|Moldavia, República de|Moldavien, republiken|Moldavië, "
     "Republiek|Moldavská republika|Moldova, Republic of|Moldova, Republikken|Moldova, République "
     "de|Moldávia, República da|Mołdawia - Republika|Republic of Moldova"},
    {"ME", "MNE", "Montenegro", "", "Czarnogóra|Černá Hora"},
    {"MF", "MAF", "Saint Martin (French part)", "fr",
     "Saint Martin (Französischer Teil)|Saint Martin (fransk del)|Saint Martin (franska "
     "delen)|Saint-Martin (Francia)|Saint-Martin (część francuska)|Saint-Martin (partie "
     "française)|San Martín (zona francesa)|Sankt Martin (Fransk del)|Sint-Maarten (Frans "
     "deel)|Svatý Martin (francouzská část)|São Martin (Território Francês)"},
    {"MG", "MDG", "Madagascar", "fr", "Madagaskar|Republic of Madagascar"},
    {"MH", "MHL", "Marshall Islands", "",
     "Ilhas Marshall|Islas Marshall|Isole Marshall|Marshalleilanden|Marshallinseln|Marshallovy "
     "ostrovy|Marshallöarna|Marshalløerne|Marshalløyene|Republic of the Marshall Islands|Wyspy "
     "Marshalla|Îles Marshall"},
    {"MK", "MKD", "North Macedonia", "",
     "Macedonia|Macedonia Północna|Macedonia del Nord|Macedonia del Norte|Macedónia do "
     "Norte|Macédoine du "
     "Nord|Noord-Macedonië|Nord-Makedonia|Nordmakedonien|Nordmazedonien|Republic of North "
     "Macedonia|Severní Makedonie"},
    {"ML", "MLI", "Mali", "fr", "Republic of Mali"},
    {"MM", "MMR", "Myanmar", "", "Birmanie|Birmânia|Burma|Mjanma|Republic of Myanmar"},
    {"MN", "MNG", "Mongolia", "", "Mongolei|Mongoliet|Mongolië|Mongolsko"},
    {"MO", "MAC", "Macao", "pt", "Macao Special Administrative Region of China|Macau|Makau"},
    {"MP", "MNP", "Northern Mariana Islands", "en",
     "Commonwealth of the Northern Mariana Islands|Ilhas Marianas do Norte|Islas Marianas del "
     "Norte|Isole Marianne Settentrionali|Mariany Północne|Noordelijke "
     "Marianen|Nord-Marianene|Nordmarianerna|Nordmarianerne|Nördliche Marianen|Severní "
     "Mariany|Îles Mariannes du Nord"},
    {"MQ", "MTQ", "Martinique", "fr", "Martinica|Martinik|Martynika"},
    {"MR", "MRT", "Mauritania", "",
     "Islamic Republic of Mauritania|Mauretania|Mauretanien|Mauritánie"},
    {"MS", "MSR", "Montserrat", "", "Monserrate"},
    {"MT", "MLT", "Malta", "en", "Malte|Republic of Malta"},
    {"MU", "MUS", "Mauritius", "",
     "Maurice|Mauricio|Mauricius|Maurizio|Maurícia|Republic of Mauritius"},
    {"MV", "MDV", "Maldives", "",
     "Islas "
     "Maldivas|Maldivas|Maldive|Maldiven|Maldivene|Maldiverna|Maldiverne|Malediven|Maledivy|"
     "Malediwy|Republic of Maldives"},
    {"MW", "MWI", "Malawi", "", "Malaui|Republic of Malawi"},
    {"MX", "MEX", "Mexico", "es", "Meksyk|Messico|Mexiko|Mexique|United Mexican States"},
    {"MY", "MYS", "Malaysia", "", "Malaisie|Malajsie|Malasia|Maleisië|Malezja"},
    {"MZ", "MOZ", "Mozambique", "pt",
     "Mocambique|Mosambik|Mozambico|Mozambik|Republic of Mozambique"},
    {"NA", "NAM", "Namibia", "", "Namibie|Republic of Namibia"},
    {"NC", "NCL", "New Caledonia", "fr",
     "Neukaledonien|Nieuw-Caledonië|Nouvelle-Calédonie|Nova Caledónia|Nová Kaledonie|Nowa "
     "Kaledonia|Nueva Caledonia|Nuova Caledonia|Ny Kaledonien|Ny-Caledonia|Nya Kaledonien"},
    {"NE", "NER", "Niger", "fr", "Republic of the Niger"},
    {"NF", "NFK", "Norfolk Island", "",
     "Ilha Norfolk|Isla Norfolk|Isola Norfolk|Norfolk|Norfolk Øen|Norfolkinsel|Norfolkský "
     "ostrov|Norfolköarna|Norfolkøya|Wyspy Norfolk|île Norfolk"},
    {"NG", "NGA", "Nigeria", "en", "Federal Republic of Nigeria|Nigérie"},
    {"NI", "NIC", "Nicaragua", "es", "Nikaragua|Republic of Nicaragua"},
    {"NL", "NLD", "Netherlands", "nl",
     "Holandia|Holland|Kingdom of the "
     "Netherlands|Nederland|Nederländerna|Niederlande|Nizozemsko|Paesi Bassi|Pays-Bas|Países "
     "Baixos|Países Bajos|The Netherlands"},
    {"NO", "NOR", "Norway", "nb",
     "Kingdom of Norway|Noorwegen|Noreg|Norge|Norsko|Noruega|Norvegia|Norvège|Norwegen|Norwegia"},
    {"NP", "NPL", "Nepal", "", "Federal Democratic Republic of Nepal"},
    {"NR", "NRU", "Nauru", "", "Republic of Nauru"},
    {"NU", "NIU", "Niue", "", "Nioue"},
    {"NZ", "NZL", "New Zealand", "en",
     "Neuseeland|Nieuw-Zeeland|Nouvelle-Zélande|Nova Zelândia|Nový Zéland|Nowa Zelandia|Nueva "
     "Zelanda|Nuova Zelanda|Nya Zeeland"},
    {"OM", "OMN", "Oman", "", "Sultanate of Oman"},
    {"PA", "PAN", "Panama", "es", "Republic of Panama"},
    {"PE", "PER", "Peru", "es", "Pérou|Republic of Peru"},
    {"PF", "PYF", "French Polynesia", "fr",
     "Francouzská Polynésie|Frans-Polynesië|Fransk Polynesia|Fransk Polynesien|Franska "
     "Polynesien|Französisch-Polynesien|Polinesia Francesa|Polinesia francese|Polinezja "
     "Francuska|Polynésie française"},
    {"PG", "PNG", "Papua New Guinea", "",
     "Independent State of Papua New Guinea|Papoea-Nieuw-Guinea|Papouasie-Nouvelle-Guinée|Papua "
     "Nova Guiné|Papua Nová Guinea|Papua Nuova Guinea|Papua Ny-Guinea|Papua Nya "
     "Guinea|Papua-Neuguinea|Papua-Nowa Gwinea|Papúa Nueva Guinea"},
    {"PH", "PHL", "Philippines", "en",
     "Filipijnen|Filipinas|Filippine|Filippinene|Filippinerna|Filippinerne|Filipíny|Philippinen|"
     "Republic of the Philippines"},
    {"PK", "PAK", "Pakistan", "", "Islamic Republic of Pakistan|Paquistão"},
    {"PL", "POL", "Poland", "pl", "Polen|Pologne|Polonia|Polska|Polsko|Republic of Poland"},
    {"PM", "SPM", "Saint Pierre and Miquelon", "fr",
     "Saint Pierre e Miquelon|Saint-Pierre en Miquelon|Saint-Pierre i Miquelon|Saint-Pierre og "
     "Miquelon|Saint-Pierre-et-Miquelon|San Pedro y Miquelon|Sankt Pierre och Miquelon|Sankt "
     "Pierre og Miquelon|St. Pierre und Miquelon|Svatý Pierre a Miquelon"},
    {"PN", "PCN", "Pitcairn", "", "Pitcairneilanden|Pitcairnovy ostrovy|Îles Pitcairn"},
    {"PR", "PRI", "Puerto Rico", "en es", "Porto Rico|Portoriko|Portoryko"},
    {"PS", "PSE", "Palestine, State of", "",
     "Palestina, Estado da|Palestina, Estado de|Palestina, Staat|Palestina, Stato di|Palestina, "
     "staten|Palestine, État de|Palestinský stát|Palestyna (państwo)|Palästina, Staat|Palæstina, "
     "staten|Staten Palestina|the State of Palestine"},
    {"PT", "PRT", "Portugal", "pt", "Portogallo|Portugalia|Portugalsko|Portuguese Republic"},
    {"PW", "PLW", "Palau", "", "Palaos|Republic of Palau"},
    {"PY", "PRY", "Paraguay", "es", "Paraguai|Paragwaj|Republic of Paraguay"},
    {"QA", "QAT", "Qatar", "", "Catar|Katar|State of Qatar"},
    {"RE", "REU", "Réunion", "fr", "Ilha Reunião|Riunione|Réunion, Île de la"},
    {"RO", "ROU", "Romania", "", "Roemenië|Roménia|Roumanie|Rumanía|Rumunia|Rumunsko|Rumænien"},
    {"RS", "SRB", "Serbia", "", "Republic of Serbia|Serbie|Serbien|Servië|Srbsko|Sérvia"},
    {"RU", "RUS", "Russian Federation", "",
     "Den russiske føderasjon|Federación Rusa|Federacja Rosyjska|Federação Russa|Rossiya|Ruská "
     "federace|Rusland|Russia|Russie, Fédération de|Russische Föderation|Russiske føderation|Ryska "
     "federationen|Россия"},
    {"RW", "RWA", "Rwanda", "", "Ruanda|Rwandese Republic"},
    {"SA", "SAU", "Saudi Arabia", "",
     "Arabia Saudyjska|Arabia Saudí|Arabie saoudite|Arábia Saudita|Kingdom of Saudi "
     "Arabia|Saoedi-Arabië|Saudiarabien|Saúdská Arábie"},
    {"SB", "SLB", "Solomon Islands", "",
     "Ilhas Salomão|Islas Salomón|Isole Salomone|Salomon, "
     "Îles|Salomoninseln|Salomonseilanden|Salomonöarna|Salomonøerne|Salomonøyene|Wyspy "
     "Salomona|Šalamounovy ostrovy"},
    {"SC", "SYC", "Seychelles", "",
     "Republic of Seychelles|Seszele|Seychellen|Seychellene|Seychellerna|Seychellerne|Seychely"},
    {"SD", "SDN", "Sudan", "", "Republic of the Sudan|Soedan|Soudan|Sudão"},
    {"SE", "SWE", "Sweden", "sv",
     "Kingdom of Sweden|Schweden|Suède|Suécia|Sverige|Svezia|Szwecja|Zweden|Švédsko"},
    {"SG", "SGP", "Singapore", "en", "Republic of Singapore|Singapour|Singapur|Singapura"},
    {"SH", "SHN", "Saint Helena, Ascension and Tristan da Cunha", "",
     "Saint Helena, Ascension och Tristan da Cunha|Saint Helena, Ascension og Tristan da "
     "Cunha|Sainte-Hélène, Ascension et Tristan da Cunha|Sankt Helena, Ascension og Tristan da "
     "Cunha|Sant'Elena, Ascensione e Tristan da Cunha|Santa Elena, Ascensión y Tristán de "
     "Acuña|Santa Helena, Ascensão e Tristão da Cunha|Sint-Helena, Ascension en Tristan da "
     "Cunha|St. Helena, Ascension und Tristan da Cunha|Svatá Helena, Ascension a Tristan da "
     "Cunha|Wyspa Świętej Heleny, Wyspa Wniebowstąpienia i Tristan da Cunha"},
    {"SI", "SVN", "Slovenia", "",
     "Eslovénia|Republic of Slovenia|Slovenien|Slovenija|Slovenië|Slovinsko|Slowenien|Słowenia"},
    {"SJ", "SJM", "Svalbard and Jan Mayen", "nb",
     "Spitsbergen en Jan Mayen|Svalbard a Jan Mayen|Svalbard e Jan Mayen|Svalbard et île Jan "
     "Mayen|Svalbard i Jan Mayen|Svalbard och Jan Mayen|Svalbard og Jan Mayen|Svalbard und Jan "
     "Mayen|Svalbard y Jan Mayen"},
    {"SK", "SVK", "Slovakia", "",
     "Eslováquia|Slovacchia|Slovak "
     "Republic|Slovakien|Slovakiet|Slovaquie|Slovensko|Slowakei|Slowakije|Słowacja"},
    {"SL", "SLE", "Sierra Leone", "", "Republic of Sierra Leone|Serra Leoa|Sierra Leona"},
    {"SM", "SMR", "San Marino", "it", "Republic of San Marino|Saint-Marin"},
    {"SN", "SEN", "Senegal", "fr", "Republic of Senegal"},
    {"SO", "SOM", "Somalia", "", "Federal Republic of Somalia|Somalië|Somálsko"},
    {"SR", "SUR", "Suriname", "nl", "Republic of Suriname|Surinam"},
    {"SS", "SSD", "South Sudan", "",
     "Jižní Súdán|Republic of South Sudan|Soudan du Sud|Sudan Południowy|Sudan del sud|Sudán del "
     "Sur|Sudão do Sul|Sydsudan|Sør-Sudan|Südsudan|Zuid-Soedan"},
    {"ST", "STP", "Sao Tome and Principe", "pt",
     "Democratic Republic of Sao Tome and Principe|Santo Tomé y Príncipe|Sao Tomé en Principe|Sao "
     "Tomé-et-Principe|Svatý Tomáš a Princův ostrov|São Tomé e Príncipe|São Tomé och Príncipe|São "
     "Tomé og Príncipe|São Tomé und Príncipe|Wyspy Świętego Tomasza i Książęca"},
    {"SV", "SLV", "El Salvador", "es", "Republic of El Salvador|Salvador|Salwador"},
    {"SX", "SXM", "Sint Maarten (Dutch part)", "nl",
     "Isla de San Martín (zona holandsea)|Saint-Martin (Niederländischer Teil)|Saint-Martin "
     "(partie néerlandaise)|Sint Maarten (Nederlands deel)|Sint Maarten (Olanda)|Sint Maarten "
     "(część holenderska)|Sint Maarten (hollandsk del)|Sint Maarten (nederlandsk del)|Sint Maarten "
     "(nederländska delen)|Svatý Martin (nizozemská část)|São Martinho (Países Baixos)"},
    {"SY", "SYR", "Syria", "",
     "Den arabiske republikk Syria|República Árabe Síria|República árabe de Siria|Siria|Syrian "
     "Arab Republic|Syrien, Arabische Republik|Syrienne, République arabe|Syriska "
     "arabrepubliken|Syriske Arabiske Republik|Syrië|Syrská arabská republika|Syryjska Republika "
     "Arabska"},
    {"SZ", "SWZ", "Eswatini", "",
     "Esuatini|Eswatini (tidligere Swasiland)|Kingdom of Eswatini|Suazilândia|Svazijsko|Swaziland"},
    {"TC", "TCA", "Turks and Caicos Islands", "",
     "Ilhas Turcas e Caicos|Islas Turcas y Caicos|Isole Turks e Caicos|Turks a Caicos|Turks i "
     "Caicos|Turks- en Caicoseilanden|Turks- och Caicosöarna|Turks- og Caicosøerne|Turks- og "
     "Caicosøyene|Turks- und Caicosinseln|îles Turques-et-Caïques"},
    {"TD", "TCD", "Chad", "", "Chade|Ciad|Czad|Republic of Chad|Tchad|Tschad|Tsjad"},
    {"TF", "ATF", "French Southern Territories", "",
     "Francouzská jižní území|Francuskie Terytoria Południowe|Franse Zuidelijke Gebieden|Franska "
     "sydterritorierna|Franske sørlige territorier|Französische Süd- und Antarktisgebiete|Sydlige "
     "Franske Territorier|Terres australes françaises|Territori francesi meridionali|Territorios "
     "Franceses del Sur|Territórios Franceses do Sul"},
    {"TG", "TGO", "Togo", "fr", "Togolese Republic"},
    {"TH", "THA", "Thailand", "",
     "Kingdom of Thailand|Tailândia|Tajlandia|Thailandia|Thajsko|Thaïlande"},
    {"TJ", "TJK", "Tajikistan", "",
     "Republic of "
     "Tajikistan|Tadjikistan|Tadschikistan|Tadsjikistan|Tadzjikistan|Tadżykistan|Tagikistan|"
     "Tajiquistão|Tayikistán|Tádžikistán"},
    {"TK", "TKL", "Tokelau", "", ""},
    {"TL", "TLS", "Timor-Leste", "pt",
     "Democratic Republic of Timor-Leste|East Timor|Oost-Timor|Timor Est|Timor Wschodni|Timor "
     "oriental|Východní Timor|Östtimor"},
    {"TM", "TKM", "Turkmenistan", "", "Turquemenistão"},
    {"TN", "TUN", "Tunisia", "fr",
     "Republic of Tunisia|Tunesien|Tunesië|Tunez|Tunezja|Tunisie|Tunisien|Tunisko"},
    {"TO", "TON", "Tonga", "", "Kingdom of Tonga"},
    {"TR", "TUR", "Türkiye", "",
     "Republic of Türkiye|Turcja|Turecko|Turkey|Turkiet|Turkije|Turquia|Türkei"},
    {"TT", "TTO", "Trinidad and Tobago", "en",
     "Republic of Trinidad and Tobago|Trindade e Tobago|Trinidad a Tobago|Trinidad e "
     "Tobago|Trinidad en Tobago|Trinidad och Tobago|Trinidad og Tobago|Trinidad und "
     "Tobago|Trinidad y Tobago|Trinité-et-Tobago|Trynidad i Tobago"},
    {"TV", "TUV", "Tuvalu", "", ""},
    {"TW", "TWN", "Taiwan", "",
     "Republic of China|Taiwan, Chinesische Provinz|Taiwan, Den kinesiske provins|Taiwan, Province "
     "of China|Taiwan, Província da China|Taiwan, Repubblica di Cina|Taiwan, provins i "
     "Kina|Taiwán, Provincia de China|Tajwan, Prowincja Chińska|Taïwan, province de "
     "Chine|Tchaj-wan, provincie Číny"},
    {"TZ", "TZA", "Tanzania", "",
     "Tansania, Vereinigte Republik|Tanzania, Den Forenede Republik|Tanzania, "
     "Forbundsrepublikken|Tanzania, República unida de|Tanzania, United Republic of|Tanzania, "
     "Zjednoczona Republika|Tanzania, förenade republiken|Tanzanie, République unie de|Tanzanie, "
     "sjednocená republika|Tanzânia, República Unida da|United Republic of Tanzania"},
    {"UA", "UKR", "Ukraine", "", "Oekraïne|Ucraina|Ucrânia|Ukraina|Ukrajina"},
    {"UG", "UGA", "Uganda", "", "Oeganda|Ouganda|Republic of Uganda"},
    {"UM", "UMI", "United States Minor Outlying Islands", "en",
     "Dalekie Wyspy Mniejsze Stanów Zjednoczonych|Förenta staternas mindre öar i Oceanien och "
     "Västindien|Ilhas Menores Distantes dos Estados Unidos|Islas Ultramarinas Menores de Estados "
     "Unidos|Isole minori esterne degli Stati Uniti d'America|Kleine afgelegen eilanden van de "
     "Verenigde Staten|Menší odlehlé ostrovy Spojených států|Mindre utenforliggende øyer til "
     "USA|USA's ydre småøer|Îles mineures éloignées des États-Unis"},
    {"US", "USA", "United States", "en",
     "America|De forente stater|Estados Unidos|Spojené státy|Stany Zjednoczone|Stati "
     "Uniti|U.S.|USA|United States of America|Vereinigte Staaten|Verenigde Staten|États-Unis"},
    {"UY", "URY", "Uruguay", "es", "Eastern Republic of Uruguay|Uruguai|Urugwaj"},
    {"UZ", "UZB", "Uzbekistan", "",
     "Oezbekistan|Ouzbékistan|Republic of Uzbekistan|Usbekistan|Uzbequistão"},
    {"VA", "VAT", "Holy See (Vatican City State)", "it",
     "Heiliger Stuhl (Staat Vatikanstadt)|Holy See|Państwo Watykańskie (Stolica "
     "Apostolska)|Saint-Siège (état de la cité du Vatican)|Santa Sede (Ciudad Estado del "
     "Vaticano)|Santa Sede (Stato della Città del Vaticano)|Santa Sé (Estado da Cidade do "
     "Vaticano)|Svatý stolec (Vatikánský městský stát)|Vaticaanstad, Staat|Vatican|Vatican "
     "City|Vatikanstaten"},
    {"VC", "VCT", "Saint Vincent and the Grenadines", "",
     "Saint Vincent e Grenadine|Saint Vincent en de Grenadines|Saint Vincent i Grenadyny|Saint "
     "Vincent og Grenadinene|Saint-Vincent-et-les-Grenadines|San Vicente y las Granadinas|Sankt "
     "Vincent och Grenadinerna|Sankt Vincent og Grenadinerne|St. Vincent und die Grenadinen|Svatý "
     "Vincenc a Grenadiny|São Vicente e Granadinas"},
    {"VE", "VEN", "Venezuela", "es",
     "Bolivarian Republic of Venezuela|Bolívarovská republika Venezuela|Den Bolivariske Republik "
     "Venezuela|Venezuela, Bolivariaanse Republiek|Venezuela, Bolivarian Republic of|Venezuela, "
     "Bolivarianska republiken|Venezuela, Bolivarische Republik|Venezuela, Repubblica bolivariana "
     "del|Venezuela, Republikken|Venezuela, República Bolivariana da|Venezuela, República "
     "Bolivariana de|Vénézuela, république bolivarienne du|Wenezuela - Boliwariańska Republika"},
    {"VG", "VGB", "Virgin Islands, British", "",
     "Britische Jungferninseln|British Virgin Islands|Britiske Jomfruøer, De|Brytyjskie Wyspy "
     "Dziewicze|Ilhas Virgens, Britânicas|Islas Vírgenes, Británicas|Isole Vergini, Regno "
     "Unito|Jomfruøyene (Storbritannia)|Jungfruöarna, brittiska|Maagdeneilanden, Britse|Panenské "
     "ostrovy, britské|Îles Vierges britanniques"},
    {"VI", "VIR", "Virgin Islands, U.S.", "en",
     "Amerikanische Jungferninseln|Amerikanske Jomfruøer, De|Ilhas Virgens, Estados Unidos|Islas "
     "Vírgenes, de EEUU|Isole Vergini, U.S.A.|Jomfruøyene (USA)|Jungfruöarna, "
     "amerikanska|Maagdeneilanden, Amerikaanse|Panenské ostrovy, americké|Virgin Islands of the "
     "United States|Wyspy Dziewicze Stanów Zjednoczonych|Îles Vierges, États-Unis"},
    {"VN", "VNM", "Vietnam", "", "Socialist Republic of Viet Nam|Vietname|Wietnam"},
    {"VU", "VUT", "Vanuatu", "", "Republic of Vanuatu"},
    {"WF", "WLF", "Wallis and Futuna", "fr",
     "Wallis a Futuna|Wallis e Futuna|Wallis en Futuna|Wallis et Futuna|Wallis i Futuna|Wallis och "
     "Futuna|Wallis og Futunaøerne|Wallis og Futunaøyene|Wallis und Futuna|Wallis y Futuna"},
    {"WS", "WSM", "Samoa", "", "Independent State of Samoa"},
    {"XK", "XKX", "Kosovo", "", "Kosova"},
    {"YE", "YEM", "Yemen", "", "Iémen|Jemen|Republic of Yemen"},
    {"YT", "MYT", "Mayotte", "fr", "Majotta"},
    {"ZA", "ZAF", "South Africa", "en",
     "Afrique du Sud|Jihoafrická republika|Południowa Afryka|Republic of South "
     "Africa|Sudáfrica|Sydafrika|Sør-Afrika|Südafrika|Zuid-Afrika|África do Sul"},
    {"ZM", "ZMB", "Zambia", "", "Republic of Zambia|Sambia|Zambie"},
    {"ZW", "ZWE", "Zimbabwe", "", "Republic of Zimbabwe|Simbabwe|Zimbabue"},
};

#define NCOUNTRY    ((int)(sizeof(countries) / sizeof(countries[0])))
#define NAME_MAX_   128 /* bytes of a folded country name */
#define ALIAS_SLOTS 8192

struct alias_slot {
    uint32_t hash;
    int16_t country; /* -1: empty */
    const char *key; /* folded, no spaces; owned by alias_pool */
};

static int16_t idx2[26 * 26];
static int16_t idx3[26 * 26 * 26];
static struct alias_slot alias_tab[ALIAS_SLOTS];
/* bit h >> 16 of every alias's hash h: a word that is no country is mostly answered here, in 8
 * KiB that stay cached, not in the 128 KiB of alias_tab, which a large index's reads evict */
static uint64_t alias_bits[(1 << 16) / 64];
static char *alias_pool;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Fold a name into buf without spaces. Return its length, or -1 when it does not fit. */
static int name_fold(const char *in, size_t len, char *buf, size_t cap)
{
    int n = norm_fold(in, len, buf, cap);
    if (n < 0)
        return -1;
    size_t w = 0;
    for (int i = 0; i < n; i++)
        if (buf[i] != ' ')
            buf[w++] = buf[i];
    buf[w] = 0;
    return (int)w;
}

static int letter(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    return -1;
}

static void alias_add(const char *name, size_t len, int16_t c, size_t *used)
{
    char buf[NAME_MAX_];
    int n = name_fold(name, len, buf, sizeof(buf));
    if (n <= 0)
        return;
    uint32_t h = hash_fnv1a(buf, (size_t)n);
    size_t i = h & (ALIAS_SLOTS - 1);
    while (alias_tab[i].country >= 0) {
        if (alias_tab[i].hash == h && strcmp(alias_tab[i].key, buf) == 0)
            return; /* first one wins */
        i = (i + 1) & (ALIAS_SLOTS - 1);
    }
    char *k = alias_pool + *used;
    memcpy(k, buf, (size_t)n + 1);
    *used += (size_t)n + 1;
    alias_tab[i] = (struct alias_slot){.hash = h, .country = c, .key = k};
    alias_bits[h >> 22] |= (uint64_t)1 << (h >> 16 & 63);
}

static void tables_build(void)
{
    memset(idx2, 0xff, sizeof(idx2));
    memset(idx3, 0xff, sizeof(idx3));
    for (size_t i = 0; i < ALIAS_SLOTS; i++)
        alias_tab[i].country = -1;
    size_t bytes = 0;
    for (int c = 0; c < NCOUNTRY; c++)
        bytes += strlen(countries[c].name) + strlen(countries[c].aliases) + 2;
    alias_pool = xmalloc(bytes * 2); /* folding never more than doubles a name */
    size_t used = 0;
    for (int16_t c = 0; c < NCOUNTRY; c++) {
        const struct country *k = &countries[c];
        idx2[letter(k->a2[0]) * 26 + letter(k->a2[1])] = c;
        idx3[(letter(k->a3[0]) * 26 + letter(k->a3[1])) * 26 + letter(k->a3[2])] = c;
        alias_add(k->name, strlen(k->name), c, &used);
    }
    for (int16_t c = 0; c < NCOUNTRY; c++) {
        const char *s = countries[c].aliases;
        while (*s) {
            const char *e = strchr(s, '|');
            size_t n = e ? (size_t)(e - s) : strlen(s);
            alias_add(s, n, c, &used);
            s += n + (e ? 1 : 0);
        }
    }
}

static int find_code(const char *s, size_t n)
{
    int a = letter(s[0]), b = letter(s[1]);
    if (a < 0 || b < 0)
        return -1;
    if (n == 2)
        return idx2[a * 26 + b];
    int c = letter(s[2]);
    if (c < 0)
        return -1;
    return idx3[(a * 26 + b) * 26 + c];
}

/* The country whose name or alias folds to buf (n bytes), or NULL. */
static const char *alias_find(const char *buf, size_t n)
{
    uint32_t h = hash_fnv1a(buf, n);
    if (!(alias_bits[h >> 22] >> (h >> 16 & 63) & 1))
        return NULL;
    for (size_t i = h & (ALIAS_SLOTS - 1); alias_tab[i].country >= 0;
         i = (i + 1) & (ALIAS_SLOTS - 1))
        if (alias_tab[i].hash == h && strcmp(alias_tab[i].key, buf) == 0)
            return countries[alias_tab[i].country].a2;
    return NULL;
}

/* White space trimmed off both ends of in (len bytes); the length left. */
static size_t trim(const char **in, size_t len)
{
    while (len > 0 && (**in == ' ' || **in == '\t')) {
        (*in)++;
        len--;
    }
    while (len > 0 && ((*in)[len - 1] == ' ' || (*in)[len - 1] == '\t'))
        len--;
    return len;
}

const char *norm_country(const char *in, size_t len)
{
    if (!in)
        return NULL;
    pthread_once(&tables_once, tables_build);
    len = trim(&in, len);
    if (len == 2 || len == 3) {
        int c = find_code(in, len);
        if (c >= 0)
            return countries[c].a2;
    }
    char buf[NAME_MAX_];
    int n = name_fold(in, len, buf, sizeof(buf));
    if (n <= 0)
        return NULL;
    return alias_find(buf, (size_t)n);
}

const char *norm_country_words(const struct norm_words *w, int i, int j)
{
    const char *in = w->word[i].s;
    size_t len = (size_t)(w->word[j - 1].s + w->word[j - 1].len - in);
    const char *t = in;
    size_t tl = trim(&t, len);
    if (tl == 2 || tl == 3)
        return norm_country(in, len); /* a code, or a name that short: folded from the text */
    pthread_once(&tables_once, tables_build);
    char buf[NAME_MAX_];
    int n = norm_words_fold_nospace(w, i, j, buf, sizeof(buf));
    if (n <= 0)
        return NULL;
    return alias_find(buf, (size_t)n);
}

static const struct country *by_iso2(const char *iso2)
{
    if (!iso2 || !iso2[0] || !iso2[1] || iso2[2])
        return NULL;
    pthread_once(&tables_once, tables_build);
    int c = find_code(iso2, 2);
    return c >= 0 ? &countries[c] : NULL;
}

const char *norm_country_iso3(const char *iso2)
{
    const struct country *c = by_iso2(iso2);
    return c ? c->a3 : NULL;
}

const char *norm_country_name(const char *iso2)
{
    const struct country *c = by_iso2(iso2);
    return c ? c->name : NULL;
}

const char *norm_country_langs(const char *iso2)
{
    const struct country *c = by_iso2(iso2);
    return c ? c->langs : NULL;
}
