"""Two ready templates for the demo and for a new practice to start from."""

from __future__ import annotations

from typing import Any


def _q(key: str, kind: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "label": label, "help": extra.pop("help", ""),
            "required": extra.pop("required", False), "allow_na": extra.pop("allow_na", False),
            "options": extra.pop("options", []), "show_if": extra.pop("show_if", None)}


def _if(question: str, value: str) -> dict[str, str]:
    return {"question": question, "equals": value}


SOLE_TRADER_ANNUAL_ACCOUNTS = {
    "name": "Jaarrekening eenmanszaak 2025",
    "description": "Wat wij van u nodig hebben om de jaarrekening 2025 op te stellen.",
    "content": {"sections": [
        {"key": "alg", "title": "Algemeen", "intro": "Een paar vragen over uw onderneming.",
         "questions": [
             _q("alg1", "yes_no", "Zijn de activiteiten van uw onderneming in 2025 gewijzigd?",
                required=True),
             _q("alg2", "long_text", "Wat is er veranderd?", required=True,
                show_if=_if("alg1", "yes")),
             _q("alg3", "number", "Hoeveel uur heeft u in 2025 aan uw onderneming gewerkt?",
                help="Voor het urencriterium (1.225 uur) van de zelfstandigenaftrek.",
                required=True),
         ]},
        {"key": "va", "title": "Vaste activa",
         "intro": "Aankopen van bedrijfsmiddelen boven de € 450 per stuk.",
         "questions": [
             _q("va1", "yes_no", "Heeft u in 2025 bedrijfsmiddelen gekocht of verkocht?",
                required=True),
             _q("va2", "files", "Upload de aankoop- en verkoopfacturen",
                show_if=_if("va1", "yes")),
             _q("va3", "amount", "Totaal aan investeringen in 2025",
                show_if=_if("va1", "yes"), required=True),
         ]},
        {"key": "auto", "title": "Auto",
         "questions": [
             _q("auto1", "single_choice", "Rijdt u in een auto van de zaak?",
                options=["Ja, op naam van de onderneming", "Nee, een privéauto",
                         "Ik heb geen auto"], required=True),
             _q("auto2", "yes_no", "Heeft u een sluitende kilometeradministratie?",
                show_if=_if("auto1", "Ja, op naam van de onderneming"), required=True),
             _q("auto3", "number", "Aantal zakelijke kilometers met de privéauto",
                help="U mag € 0,23 per zakelijke kilometer als kosten opvoeren.",
                show_if=_if("auto1", "Nee, een privéauto")),
         ]},
        {"key": "voorraad", "title": "Voorraad en debiteuren",
         "questions": [
             _q("vr1", "amount", "Waarde van de voorraad op 31 december 2025", allow_na=True),
             _q("vr2", "amount", "Openstaande facturen van klanten op 31 december 2025",
                required=True),
             _q("vr3", "amount", "Openstaande facturen van leveranciers op 31 december 2025",
                required=True),
         ]},
        {"key": "prive", "title": "Privé",
         "questions": [
             _q("pr1", "amount", "Privéopnamen uit de onderneming in 2025",
                help="Geld dat u voor uzelf van de zakelijke rekening haalde."),
             _q("pr2", "yes_no", "Heeft u privégeld in de onderneming gestoken?"),
             _q("pr3", "amount", "Hoeveel?", show_if=_if("pr2", "yes"), required=True),
         ]},
    ]},
}

INCOME_TAX_RETURN = {
    "name": "Aangifte inkomstenbelasting 2025",
    "description": "De gegevens voor uw aangifte inkomstenbelasting over 2025.",
    "content": {"sections": [
        {"key": "pers", "title": "Persoonlijke situatie",
         "questions": [
             _q("p1", "single_choice", "Wat was uw situatie op 31 december 2025?",
                options=["Alleenstaand", "Gehuwd of geregistreerd partner",
                         "Samenwonend met fiscaal partner"], required=True),
             _q("p2", "date", "Sinds wanneer?",
                show_if=_if("p1", "Samenwonend met fiscaal partner")),
             _q("p3", "number", "Aantal thuiswonende kinderen jonger dan 18", allow_na=True),
         ]},
        {"key": "woning", "title": "Eigen woning",
         "questions": [
             _q("w1", "yes_no", "Had u in 2025 een eigen woning?", required=True),
             _q("w2", "amount", "WOZ-waarde van de woning (peildatum 1 januari 2024)",
                show_if=_if("w1", "yes"), required=True),
             _q("w3", "files", "Upload het jaaroverzicht van uw hypotheekverstrekker",
                show_if=_if("w1", "yes")),
         ]},
        {"key": "inkomen", "title": "Inkomen",
         "questions": [
             _q("i1", "multiple_choice", "Welk inkomen had u in 2025?",
                options=["Loon", "Uitkering", "Pensioen", "Winst uit onderneming",
                         "Inkomsten uit verhuur"], required=True),
             _q("i2", "files", "Upload uw jaaropgave(n)", show_if=_if("i1", "Loon")),
         ]},
        {"key": "aftrek", "title": "Aftrekposten",
         "questions": [
             _q("a1", "amount", "Giften aan goede doelen (ANBI)", allow_na=True),
             _q("a2", "amount", "Zorgkosten die u zelf betaalde", allow_na=True,
                help="Niet: eigen risico en wat de verzekering vergoedde."),
             _q("a3", "long_text", "Is er verder iets dat wij moeten weten?"),
         ]},
    ]},
}

EXAMPLES = (SOLE_TRADER_ANNUAL_ACCOUNTS, INCOME_TAX_RETURN)
