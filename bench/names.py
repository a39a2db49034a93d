"""Dutch names for the reference data set: people, companies, practices, work, files.

Everything is drawn from a `random.Random` the caller seeds, so the same seed gives the
same names. Addresses use `.example` domains (RFC 2606): no mail can reach a real person.
"""

from __future__ import annotations

import random
import re
import unicodedata

FIRST_NAMES = (
    "Jan", "Pieter", "Kees", "Willem", "Johan", "Henk", "Gerrit", "Bram", "Daan", "Sem",
    "Lucas", "Levi", "Noah", "Finn", "Jesse", "Thijs", "Ruben", "Lars", "Tim", "Sander",
    "Mark", "Dennis", "Bas", "Joost", "Maarten", "Erik", "Rob", "Wouter", "Jeroen", "Niels",
    "Mohammed", "Ahmed", "Youssef", "Emre", "Stijn", "Hugo", "Koen", "Teun", "Gijs", "Ries",
    "Anna", "Emma", "Sophie", "Julia", "Lotte", "Sanne", "Fleur", "Eva", "Lisa", "Anouk",
    "Femke", "Iris", "Marieke", "Ingrid", "Annemiek", "Petra", "Monique", "Linda", "Esther",
    "Saskia", "Nadia", "Fatima", "Yasmin", "Mila", "Tess", "Noor", "Sara", "Zoë", "Mirjam",
    "Hanneke", "Wilma", "Karin", "Astrid", "Ilse", "Renske", "Dewi", "Ayşe", "Elif", "Roos",
)

# (tussenvoegsel, surname): "de Boer" is sorted and capitalised differently from "Boer".
SURNAMES = (
    ("de", "Jong"), ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"),
    ("", "Bakker"), ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"),
    ("de", "Boer"), ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"),
    ("", "Peters"), ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"),
    ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"),
    ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"),
    ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"),
    ("van der", "Heijden"), ("", "Schouten"), ("van", "Beek"), ("", "Willems"),
    ("van", "Vliet"), ("van de", "Ven"), ("", "Hoekstra"), ("", "Maas"), ("", "Verhoeven"),
    ("", "Koster"), ("van", "Dam"), ("van der", "Wal"), ("", "Prins"), ("", "Blom"),
    ("", "Huisman"), ("", "Y\u0131lmaz"), ("", "Kaya"), ("el", "Amrani"), ("", "Bouzid"),
    ("", "Nguyen"), ("", "Postma"), ("", "Kuipers"), ("", "Veenstra"), ("", "Zwart"),
    ("ter", "Horst"), ("", "Timmermans"), ("", "Wouters"), ("van", "Rijn"), ("", "Sanders"),
)

TRADES = (
    "Bakkerij", "Installatiebedrijf", "Bouwbedrijf", "Hoveniersbedrijf", "Schildersbedrijf",
    "Transportbedrijf", "Autobedrijf", "Kapsalon", "Fysiotherapie", "Tandartspraktijk",
    "Loodgietersbedrijf", "Timmerbedrijf", "Dakdekkersbedrijf", "Rijschool", "Eetcafé",
    "Restaurant", "Cafetaria", "Slagerij", "Bloemenhandel", "Fietsenmaker", "Garage",
    "Drukkerij", "Reclamebureau", "Architectenbureau", "Ingenieursbureau", "Klussenbedrijf",
    "Schoonmaakbedrijf", "Kinderopvang", "Makelaardij", "Verhuisbedrijf", "Kwekerij",
    "Juwelier", "Opticien", "Boekhandel", "Melkveehouderij", "Zorgboerderij", "Dierenkliniek",
)
BRANCHES = (
    "Installatietechniek", "Bouw", "Transport", "Techniek", "Consultancy", "Vastgoed",
    "Metaalbewerking", "Elektrotechniek", "Logistiek", "Advies", "ICT", "Onderhoud", "Groep",
    "Zorg", "Media", "Interieurbouw", "Grondverzet", "Beveiliging", "Catering", "Events",
)
ADJECTIVES = ("Gouden", "Zilveren", "Groene", "Blauwe", "Rode", "Oude", "Nieuwe", "Vrolijke",
              "Snelle", "Witte", "Zwarte", "Hollandse")
NOUNS = ("Korst", "Draak", "Molen", "Haven", "Brug", "Toren", "Sleutel", "Vlinder", "Eik",
         "Linde", "Duin", "Polder", "Gracht", "Zwaan", "Leeuw", "Ster", "Tulp", "Kade")
CITIES = (
    "Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Almere",
    "Breda", "Nijmegen", "Apeldoorn", "Haarlem", "Arnhem", "Enschede", "Amersfoort",
    "Zaandam", "Zwolle", "Leiden", "Maastricht", "Dordrecht", "Delft", "Alkmaar", "Hoorn",
    "Venlo", "Deventer", "Leeuwarden", "Assen", "Gouda", "Harderwijk", "Middelburg", "Emmen",
)
OTHER_WORK = ("Loonadministratie", "Subsidieaanvraag", "Advies bedrijfsovername",
              "Prognose", "Kredietaanvraag", "Btw-suppletie", "Herstructurering",
              "Aangifte vennootschapsbelasting", "Jaarrekening stichting", "Tussentijds cijfers")


def person(rng: random.Random) -> tuple[str, str]:
    """(full name, surname as it starts a company name): ("Sanne de Boer", "De Boer")."""
    first = rng.choice(FIRST_NAMES)
    prefix, surname = rng.choice(SURNAMES)
    full = f"{first} {prefix} {surname}" if prefix else f"{first} {surname}"
    leading = f"{prefix[0].upper()}{prefix[1:]} {surname}" if prefix else surname
    return full, leading


def company(rng: random.Random) -> str:
    """A company name in one of the shapes a Dutch practice's client list shows."""
    _, a = person(rng)
    shape = rng.random()
    if shape < 0.30:
        return f"{rng.choice(TRADES)} {a}"
    if shape < 0.55:
        return f"{a} {rng.choice(BRANCHES)} B.V."
    if shape < 0.65:
        return f"{a} Holding B.V."
    if shape < 0.78:
        return f"De {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} B.V."
    if shape < 0.88:
        _, b = person(rng)
        return f"{a} & {b} V.O.F."
    if shape < 0.95:
        return f"{rng.choice(BRANCHES)} {rng.choice(CITIES)} B.V."
    return f"Stichting {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"


def practice(rng: random.Random) -> str:
    _, a = person(rng)
    shape = rng.random()
    if shape < 0.35:
        return f"{a} Accountants"
    if shape < 0.60:
        _, b = person(rng)
        return f"{a} & {b} Accountants"
    if shape < 0.80:
        return f"Administratiekantoor {a}"
    if shape < 0.90:
        return f"{rng.choice(CITIES)} Accountancy"
    return f"{a} Belastingadvies"


def ascii_slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII letters and digits joined by sep: for host names and addresses."""
    folded = unicodedata.normalize("NFKD", text.replace("\u0131", "i").replace("&", " "))
    plain = folded.encode("ascii", "ignore").decode().lower()
    return sep.join(re.findall(r"[a-z0-9]+", plain))


def mailbox(full_name: str) -> str:
    """"Sanne de Boer" -> "sanne.deboer": the local part most Dutch companies use."""
    first, _, rest = full_name.partition(" ")
    return f"{ascii_slug(first, '')}.{ascii_slug(rest, '')}"


def company_domain(name: str) -> str:
    words = [w for w in ascii_slug(name).split("-") if w not in ("b", "v", "o", "f", "de")]
    return "-".join(words[:3]) + ".example"


# --- documents -------------------------------------------------------------------------------

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")

# (name without extension, extensions to draw from). Fields: {year} the folder's year, {next}
# the year after, {month} a Dutch month, {mm} its number, {q} its quarter, {day} a day.
FROM_CLIENT = (
    ("Bankafschriften {year} Q{q}", ("pdf", "pdf", "csv")),
    ("Bankafschriften {month} {year}", ("pdf",)),
    ("Loonstroken {month}", ("pdf",)),
    ("Inkoopfacturen {year}-{mm}", ("zip", "zip", "pdf")),
    ("Verkoopfacturen {year}-{mm}", ("zip", "pdf", "xlsx")),
    ("Kasboek {year}", ("xlsx", "xls", "ods")),
    ("Jaaropgave {year} salaris", ("pdf",)),
    ("Jaaropgave hypotheek {year}", ("pdf",)),
    ("WOZ-beschikking {year}", ("pdf", "jpg")),
    ("Kilometerregistratie {year}", ("xlsx", "pdf")),
    ("Bonnetjes {month} {year}", ("zip", "pdf")),
    ("Bon tankstation {day}-{mm}-{year}", ("jpg", "jpeg", "heic")),
    ("Scan factuur {day}-{mm}-{year}", ("png", "pdf", "jpg")),
    ("Voorraadlijst 31-12-{year}", ("xlsx", "csv")),
    ("Debiteurenlijst {year}", ("xlsx", "csv")),
    ("Crediteurenlijst {year}", ("xlsx", "csv")),
    ("Huurcontract bedrijfspand", ("pdf", "docx")),
    ("Polis bedrijfsaansprakelijkheid {year}", ("pdf",)),
    ("Uittreksel KvK {year}", ("pdf",)),
    ("Brief Belastingdienst {day}-{mm}-{year}", ("pdf", "jpg")),
    ("Notulen aandeelhoudersvergadering {year}", ("docx", "pdf", "odt")),
    ("Investeringen {year}", ("xlsx", "txt")),
    ("Opgave privégebruik auto {year}", ("docx", "pdf")),
    ("Leaseovereenkomst bestelbus", ("pdf",)),
    ("Export boekhouding {year}", ("csv", "zip", "xlsx")),
)
FROM_PRACTICE = (
    ("Concept jaarrekening {year}", ("pdf",)),
    ("Samenstellingsverklaring {year}", ("pdf",)),
    ("Aangifte inkomstenbelasting {year}", ("pdf",)),
    ("Aangifte vennootschapsbelasting {year}", ("pdf",)),
    ("Aangifte omzetbelasting {year} Q{q}", ("pdf",)),
    ("Voorlopige aanslag {next}", ("pdf",)),
    ("Loonstroken {month} {year}", ("pdf", "zip")),
    ("Loonjournaal {year}-{mm}", ("pdf", "xlsx")),
    ("Managementrapportage {year} Q{q}", ("pdf", "pptx")),
    ("Btw-overzicht {year} Q{q}", ("xlsx", "pdf")),
    ("Prognose {next}", ("xlsx", "ods")),
    ("Vragen bij het jaarwerk {year}", ("docx", "pdf")),
    ("Opdrachtbevestiging {year}", ("pdf", "docx")),
    ("Specificatie vaste activa {year}", ("xlsx", "pdf")),
    ("Overzicht te betalen belastingen {next}", ("pdf",)),
)


def document_name(rng: random.Random, year: int, *, from_client: bool) -> str:
    """A file name as people send it: "Bankafschriften 2024 Q3.pdf", "Loonstroken maart.pdf",
    "Inkoopfacturen 2025-02.zip". `year` is the folder the file belongs in."""
    stem, extensions = rng.choice(FROM_CLIENT if from_client else FROM_PRACTICE)
    month = int(rng.random() * 12)
    name = stem.format(year=year, next=year + 1, month=MONTHS[month], mm=f"{month + 1:02d}",
                       q=month // 3 + 1, day=f"{1 + int(rng.random() * 28):02d}")
    return f"{name}.{rng.choice(extensions)}"
