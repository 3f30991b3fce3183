# SPDX-License-Identifier: AGPL-3.0-or-later
"""Plausible French offices for the generated world: prefectures, sub-prefectures and town halls.

Office names and postcodes: "Code officiel géographique — INSEE, via @etalab/decoupage-administratif
6.0.0, Licence Ouverte 2.0" joined with "Annuaire de l'administration, Base de données locales —
Service-Public.gouv.fr / DILA (2022-10-28), Licence Ouverte 2.0". Coordinates are approximate (0.01°) and
only place ANTS meeting points; metropolitan France only, so every local time is Europe/Paris.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from random import Random

from creneau.sim.model import Planning, SimTarget
from creneau.types import System

RDVPREF_HOST = "www.rdv-prefecture.interieur.gouv.fr"
ANTS_HOST = "api.rendezvouspasseport.ants.gouv.fr"
PP_HOST = "pprdv.interieur.gouv.fr"

# code|name|lat|lon|prefecture:postcode|sub-prefecture:postcode,...
_DATA = """\
01|Ain|46.21|5.23|Bourg-en-Bresse:01000|Belley:01300,Gex:01170,Nantua:01130
02|Aisne|49.56|3.62|Laon:02000|Château-Thierry:02400,Saint-Quentin:02100,Soissons:02200,Vervins:02140
03|Allier|46.57|3.33|Moulins:03000|Montluçon:03100,Vichy:03200
04|Alpes-de-Haute-Provence|44.09|6.24|Digne-les-Bains:04000|Barcelonnette:04400,Castellane:04120,Forcalquier:04300
05|Hautes-Alpes|44.56|6.08|Gap:05000|Briançon:05100
06|Alpes-Maritimes|43.70|7.27|Nice:06200|Grasse:06130
07|Ardèche|44.74|4.60|Privas:07000|Largentière:07110,Tournon-sur-Rhône:07300
08|Ardennes|49.77|4.72|Charleville-Mézières:08000|Rethel:08300,Sedan:08200,Vouziers:08400
09|Ariège|42.97|1.61|Foix:09000|Pamiers:09100,Saint-Girons:09200
10|Aube|48.30|4.08|Troyes:10000|Bar-sur-Aube:10200,Nogent-sur-Seine:10400
11|Aude|43.21|2.35|Carcassonne:11000|Limoux:11300,Narbonne:11100
12|Aveyron|44.35|2.57|Rodez:12000|Millau:12100,Villefranche-de-Rouergue:12200
13|Bouches-du-Rhône|43.30|5.37|Marseille:13006|Aix-en-Provence:13006,Arles:13200,Istres:13800
14|Calvados|49.18|-0.37|Caen:14000|Bayeux:14400,Lisieux:14100,Vire Normandie:14500
15|Cantal|44.93|2.44|Aurillac:15000|Mauriac:15200,Saint-Flour:15100
16|Charente|45.65|0.16|Angoulême:16000|Cognac:16100,Confolens:16500
17|Charente-Maritime|46.16|-1.15|La Rochelle:17000|Jonzac:17500,Rochefort:17300,Saintes:17100,Saint-Jean-d'Angély:17400
18|Cher|47.08|2.40|Bourges:18000|Saint-Amand-Montrond:18200,Vierzon:18100
19|Corrèze|45.27|1.77|Tulle:19000|Brive-la-Gaillarde:19100,Ussel:19200
21|Côte-d'Or|47.32|5.04|Dijon:21041|Beaune:21200,Montbard:21500
22|Côtes-d'Armor|48.51|-2.76|Saint-Brieuc:22000|Dinan:22100,Guingamp:22200,Lannion:22300
23|Creuse|46.17|1.87|Guéret:23000|Aubusson:23200
24|Dordogne|45.18|0.72|Périgueux:24000|Bergerac:24100,Nontron:24300,Sarlat-la-Canéda:24200
25|Doubs|47.24|6.02|Besançon:25000|Montbéliard:25200,Pontarlier:25300
26|Drôme|44.93|4.89|Valence:26000|Die:26150,Nyons:26110
27|Eure|49.03|1.15|Évreux:27000|Les Andelys:27700,Bernay:27300
28|Eure-et-Loir|48.45|1.49|Chartres:28000|Châteaudun:28200,Dreux:28100,Nogent-le-Rotrou:28400
29|Finistère|48.00|-4.10|Quimper:29000|Brest:29200,Châteaulin:29150,Morlaix:29600
2A|Corse-du-Sud|41.93|8.74|Ajaccio:20000|Sartène:20100
2B|Haute-Corse|42.70|9.45|Bastia:20200|Corte:20250,Calvi:20260
30|Gard|43.84|4.36|Nîmes:30000|Alès:30100,Le Vigan:30120
31|Haute-Garonne|43.60|1.44|Toulouse:31000|Muret:31600,Saint-Gaudens:31800
32|Gers|43.65|0.59|Auch:32000|Condom:32100,Mirande:32300
33|Gironde|44.84|-0.58|Bordeaux:33000|Blaye:33390,Langon:33210,Lesparre-Médoc:33340,Libourne:33500,Arcachon:33120
34|Hérault|43.61|3.88|Montpellier:34000|Béziers:34500,Lodève:34700
35|Ille-et-Vilaine|48.11|-1.68|Rennes:35000|Fougères:35300,Redon:35600,Saint-Malo:35400
36|Indre|46.81|1.69|Châteauroux:36000|Le Blanc:36300,La Châtre:36400,Issoudun:36100
37|Indre-et-Loire|47.39|0.69|Tours:37000|Chinon:37500,Loches:37600
38|Isère|45.19|5.72|Grenoble:38000|La Tour-du-Pin:38110,Vienne:38200
39|Jura|46.67|5.55|Lons-le-Saunier:39000|Dole:39100,Saint-Claude:39200
40|Landes|43.89|-0.50|Mont-de-Marsan:40000|Dax:40100
41|Loir-et-Cher|47.59|1.33|Blois:41000|Vendôme:41100,Romorantin-Lanthenay:41200
42|Loire|45.44|4.39|Saint-Étienne:42000|Montbrison:42600,Roanne:42300
43|Haute-Loire|45.04|3.88|Le Puy-en-Velay:43000|Brioude:43100,Yssingeaux:43200
44|Loire-Atlantique|47.22|-1.55|Nantes:44000|Saint-Nazaire:44600,Châteaubriant:44110
45|Loiret|47.90|1.90|Orléans:45000|Montargis:45200,Pithiviers:45300
46|Lot|44.45|1.44|Cahors:46000|Figeac:46100,Gourdon:46300
47|Lot-et-Garonne|44.20|0.62|Agen:47000|Marmande:47200,Villeneuve-sur-Lot:47300,Nérac:47600
48|Lozère|44.52|3.50|Mende:48000|Florac Trois Rivières:48400
49|Maine-et-Loire|47.47|-0.55|Angers:49100|Cholet:49300,Saumur:49400,Segré-en-Anjou Bleu:49500
50|Manche|49.12|-1.09|Saint-Lô:50000|Avranches:50300,Cherbourg-en-Cotentin:50100,Coutances:50200
51|Marne|48.96|4.36|Châlons-en-Champagne:51000|Épernay:51200,Reims:51100,Vitry-le-François:51300
52|Haute-Marne|48.11|5.14|Chaumont:52000|Langres:52200,Saint-Dizier:52100
53|Mayenne|48.07|-0.77|Laval:53000|Château-Gontier-sur-Mayenne:53200,Mayenne:53100
54|Meurthe-et-Moselle|48.69|6.18|Nancy:54000|Val de Briey:54150,Lunéville:54300,Toul:54200
55|Meuse|48.77|5.16|Bar-le-Duc:55000|Commercy:55200,Verdun:55100
56|Morbihan|47.66|-2.76|Vannes:56000|Lorient:56100,Pontivy:56306
57|Moselle|49.12|6.18|Metz:57000|Forbach:57600,Sarrebourg:57400,Sarreguemines:57216,Thionville:57100
58|Nièvre|46.99|3.16|Nevers:58000|Château-Chinon (Ville):58120,Clamecy:58500,Cosne-Cours-sur-Loire:58200
59|Nord|50.63|3.06|Lille:59000|Avesnes-sur-Helpe:59440,Cambrai:59400,Douai:59500,Dunkerque:59140,Valenciennes:59300
60|Oise|49.43|2.08|Beauvais:60000|Clermont:60600,Compiègne:60200,Senlis:60300
61|Orne|48.43|0.09|Alençon:61000|Argentan:61200,Mortagne-au-Perche:61400
62|Pas-de-Calais|50.29|2.78|Arras:62000|Béthune:62400,Boulogne-sur-Mer:62200,Montreuil-sur-Mer:62170,Saint-Omer:62500,Calais:62100,Lens:62300
63|Puy-de-Dôme|45.78|3.08|Clermont-Ferrand:63000|Ambert:63600,Issoire:63500,Riom:63200,Thiers:63300
64|Pyrénées-Atlantiques|43.30|-0.37|Pau:64000|Bayonne:64100,Oloron-Sainte-Marie:64400
65|Hautes-Pyrénées|43.23|0.08|Tarbes:65000|Argelès-Gazost:65400,Bagnères-de-Bigorre:65200
66|Pyrénées-Orientales|42.70|2.90|Perpignan:66000|Céret:66400,Prades:66500
67|Bas-Rhin|48.57|7.75|Strasbourg:67000|Haguenau:67500,Molsheim:67120,Saverne:67700,Sélestat:67600
68|Haut-Rhin|48.08|7.36|Colmar:68000|Altkirch:68130,Mulhouse:68100,Thann:68800
69|Rhône|45.76|4.84|Lyon:69003|Villefranche-sur-Saône:69400
70|Haute-Saône|47.62|6.15|Vesoul:70000|Lure:70200
71|Saône-et-Loire|46.31|4.83|Mâcon:71000|Autun:71400,Chalon-sur-Saône:71100,Charolles:71120,Louhans-Châteaurenaud:71500
72|Sarthe|48.00|0.20|Le Mans:72000|La Flèche:72200,Mamers:72600
73|Savoie|45.56|5.92|Chambéry:73000|Albertville:73207,Saint-Jean-de-Maurienne:73300
74|Haute-Savoie|45.90|6.13|Annecy:74000|Bonneville:74130,Saint-Julien-en-Genevois:74160,Thonon-les-Bains:74200
75|Paris|48.86|2.35|Paris:75015|
76|Seine-Maritime|49.44|1.10|Rouen:76000|Dieppe:76200,Le Havre:76600
77|Seine-et-Marne|48.54|2.66|Melun:77000|Meaux:77100,Provins:77160,Fontainebleau:77300,Torcy:77200
78|Yvelines|48.80|2.13|Versailles:78000|Mantes-la-Jolie:78200,Rambouillet:78120,Saint-Germain-en-Laye:78100
79|Deux-Sèvres|46.32|-0.46|Niort:79000|Bressuire:79300,Parthenay:79200
80|Somme|49.89|2.30|Amiens:80000|Abbeville:80100,Montdidier:80500,Péronne:80200
81|Tarn|43.93|2.15|Albi:81000|Castres:81100
82|Tarn-et-Garonne|44.02|1.35|Montauban:82013|Castelsarrasin:82100
83|Var|43.12|5.93|Toulon:83000|Draguignan:83300,Brignoles:83170
84|Vaucluse|43.95|4.81|Avignon:84000|Apt:84400,Carpentras:84200
85|Vendée|46.67|-1.43|La Roche-sur-Yon:85000|Fontenay-le-Comte:85200,Les Sables-d'Olonne:85100
86|Vienne|46.58|0.34|Poitiers:86021|Châtellerault:86100,Montmorillon:86500
87|Haute-Vienne|45.83|1.26|Limoges:87000|Bellac:87300,Rochechouart:87600
88|Vosges|48.17|6.45|Épinal:88026|Neufchâteau:88300,Saint-Dié-des-Vosges:88100
89|Yonne|47.80|3.57|Auxerre:89000|Avallon:89200,Sens:89100
90|Territoire de Belfort|47.64|6.86|Belfort:90000|
91|Essonne|48.63|2.44|Évry-Courcouronnes:91010|Étampes:91150,Palaiseau:91120
92|Hauts-de-Seine|48.89|2.21|Nanterre:92100|Antony:92160,Boulogne-Billancourt:92100
93|Seine-Saint-Denis|48.91|2.44|Bobigny:93000|Le Raincy:93340,Saint-Denis:93200
94|Val-de-Marne|48.79|2.46|Créteil:94000|Nogent-sur-Marne:94130,L'Haÿ-les-Roses:94240
95|Val-d'Oise|49.04|2.08|Cergy:95000|Argenteuil:95100,Sarcelles:95200
"""

_IDF = frozenset({"75", "77", "78", "91", "92", "93", "94", "95"})
_BIG = frozenset({"13", "69", "31", "33", "59", "06", "67", "34", "44", "38", "35"})
# booking-systems.md §2.1 / §7: départements seen on the legacy module (weighted up), and their hosts.
_LEGACY_SEEN = frozenset({"92", "93", "91", "95", "76", "63", "01"})
_RDV_SUBDOMAIN = frozenset({"63", "01"})
_PP_FORMS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (989, (990, 1000, 1001, 1002, 1003, 1005, 1028, 1029)),
    (948, (949,)),
    (953, (954, 955)),
    (885, (886,)),
    (876, (877, 878)),
    (957, (958,)),
)
_DEMARCHES = (
    "Remise de titre de séjour",
    "Titre de séjour — première demande",
    "Renouvellement de titre de séjour",
    "Naturalisation — dépôt de dossier",
    "Naturalisation — entretien d'assimilation",
    "Admission exceptionnelle au séjour",
    "Permis de conduire — commission médicale",
    "Guichet unique des demandeurs d'asile",
)


@dataclass(frozen=True, slots=True)
class Office:
    dept: str
    dept_name: str
    kind: str  # "prefecture" | "sous_prefecture"
    city: str
    zip_code: str
    latitude: float
    longitude: float

    @property
    def slug(self) -> str:
        """The département's name as in its `<slug>.gouv.fr` site ("Val-d'Oise" → "val-doise")."""
        plain = unicodedata.normalize("NFKD", self.dept_name).encode("ascii", "ignore").decode()
        return plain.lower().replace("'", "").replace(" ", "-")

    @property
    def label(self) -> str:
        what = "Préfecture" if self.kind == "prefecture" else "Sous-préfecture"
        return f"{what} — {self.city} ({self.dept})"

    @property
    def heat(self) -> float:
        """How likely this office is hot (§8: IDF, PP, big-city titres de séjour)."""
        if self.dept in _IDF:
            return 1.0 if self.kind == "prefecture" else 0.7
        if self.dept in _BIG:
            return 0.8 if self.kind == "prefecture" else 0.2
        return 0.0


def _offices() -> tuple[Office, ...]:
    out: list[Office] = []
    for line in _DATA.splitlines():
        code, name, lat, lon, pref, subs = line.split("|")
        for i, item in enumerate([pref, *filter(None, subs.split(","))]):
            city, zip_code = item.rsplit(":", 1)
            # Sub-prefectures sit around the prefecture: spread them so meeting points differ.
            dlat, dlon = ((i * 0.37) % 0.6 - 0.3, (i * 0.53) % 0.6 - 0.3) if i else (0.0, 0.0)
            kind = "prefecture" if i == 0 else "sous_prefecture"
            out.append(
                Office(code, name, kind, city, zip_code, round(float(lat) + dlat, 4), round(float(lon) + dlon, 4))
            )
    return tuple(out)


OFFICES = _offices()


def apportion(n: int, shares: Sequence[float]) -> list[int]:
    """Split `n` by `shares` (largest remainder), so the counts add up to `n` exactly."""
    total = sum(shares) or 1.0
    raw = [n * s / total for s in shares]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])[: n - sum(counts)]:
        counts[i] += 1
    return counts


def make_targets(
    rng: Random, n: int, mix: Sequence[tuple[System, float]], *, pp_share: float, prefix: str
) -> list[SimTarget]:
    """`n` targets split by `mix`: RDV Préfecture agendas, legacy forms (a `pp_share` of them at the
    Préfecture de Police) and ANTS town halls.

    Démarche, form and meeting-point ids are distinct per host; ids read `{prefix}{system}-{n:05d}`
    (`{prefix}pp-…` for the Préfecture de Police). `office_class` is left at its default.
    """
    counts = dict(zip([s for s, _ in mix], apportion(n, [w for _, w in mix]), strict=True))
    out: list[SimTarget] = []
    offices = list(OFFICES)
    rng.shuffle(offices)
    n_rdv = counts.get(System.RDVPREF, 0)
    for i, demarche in enumerate(rng.sample(range(1000, 40000), n_rdv)):
        office, round_ = offices[i % len(offices)], i // len(offices)
        what = _DEMARCHES[(i % 3 + 3 * round_) % len(_DEMARCHES)]
        out.append(_target(f"{prefix}rdvpref-{i + 1:05d}", System.RDVPREF, RDVPREF_HOST, demarche, office, what))
    out.extend(_legacy(rng, counts.get(System.LEGACY, 0), pp_share, prefix))
    n_ants = counts.get(System.ANTS, 0)
    for i, point in enumerate(rng.sample(range(1000, 99999), n_ants)):
        office, round_ = offices[i % len(offices)], i // len(offices)
        annex = f" — annexe {round_}" if round_ else ""
        t = _target(f"{prefix}ants-{i + 1:05d}", System.ANTS, ANTS_HOST, point, office, "")
        out.append(replace(t, name=f"Mairie {_of(office.city)}{annex}"))
    return out


def heat_of(target: SimTarget) -> float:
    """The office heat of a target made by `make_targets`; the Préfecture de Police is the hottest."""
    if target.host == PP_HOST:
        return 2.0
    office = _BY_PLACE.get((target.city, target.zip_code))
    return office.heat if office else 0.0


def _legacy(rng: Random, n: int, pp_share: float, prefix: str) -> list[SimTarget]:
    n_pp = round(n * pp_share)
    out: list[SimTarget] = []
    paris = next(o for o in OFFICES if o.dept == "75")
    known = {form for form, _ in _PP_FORMS}
    extra = [f for f in rng.sample(range(700, 1000), 300) if f not in known]
    for i in range(n_pp):
        if i < len(_PP_FORMS):
            form, guichets = _PP_FORMS[i]
        else:
            form = extra[(i - len(_PP_FORMS)) % len(extra)] + 1000 * ((i - len(_PP_FORMS)) // len(extra))
            guichets = tuple(form * 10 + k for k in range(1, rng.randint(1, 4) + 1))
        t = _target(f"{prefix}pp-{i + 1:05d}", System.LEGACY, PP_HOST, form, paris, "")
        out.append(
            replace(
                t,
                name=f"Préfecture de Police · {_DEMARCHES[i % len(_DEMARCHES)]}",
                plannings=tuple(Planning(str(p), f"Guichet {k + 1}") for k, p in enumerate(guichets)),
            )
        )
    weights = [8.0 if o.dept in _LEGACY_SEEN else 1.0 for o in OFFICES]
    for i, form in enumerate(rng.sample(range(800, 60000), n - n_pp)):
        office = rng.choices(OFFICES, weights)[0]
        host = ("rdv." if office.dept in _RDV_SUBDOMAIN else "www.") + office.slug + ".gouv.fr"
        k = rng.choices((1, 2, 3, 4, 5), (30, 25, 20, 15, 10))[0]
        plannings = tuple(Planning(str(form * 10 + j), f"Guichet {chr(65 + j)}") for j in range(k))
        t = _target(f"{prefix}legacy-{i + 1:05d}", System.LEGACY, host, form, office, _DEMARCHES[i % len(_DEMARCHES)])
        out.append(replace(t, plannings=plannings))
    return out


def _target(tid: str, system: System, host: str, ident: int, office: Office, what: str) -> SimTarget:
    return SimTarget(
        tid,
        system,
        host,
        ident,
        name=f"{office.label} · {what}" if what else office.label,
        latitude=office.latitude,
        longitude=office.longitude,
        zip_code=office.zip_code,
        city=office.city,
    )


def _of(city: str) -> str:
    """French elision and contraction: "de Bordeaux", "d'Issoire", "du Mans", "des Andelys"."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if city.startswith(article):
            return contracted + city[len(article) :]
    first = unicodedata.normalize("NFKD", city[:1]).encode("ascii", "ignore").decode().lower()
    return f"d'{city}" if first in "aeiouy" else f"de {city}"


_BY_PLACE = {(o.city, o.zip_code): o for o in OFFICES}
