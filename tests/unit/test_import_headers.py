"""The client import's column guesses for the relations exports of the packages practices
use. The header rows are written as those packages name their columns in their manuals and
help pages, as far as we know them; none was taken from a real export file (we had none)."""

import pytest

from portal.clients.imports import guess_mapping

EXPORTS = {
    "Exact Online (Relaties)": (
        ["Code", "Naam", "KvK-nummer", "Btw-nummer", "Contactpersoon", "E-mail", "Telefoon"],
        {"Code": "client_number", "Naam": "name", "KvK-nummer": "kvk_number",
         "Btw-nummer": "vat_number", "Contactpersoon": "contact_name",
         "E-mail": "contact_email"}),
    "SnelStart (Relaties)": (
        ["Relatiecode", "Naam", "Contactpersoon", "Adres", "Postcode", "Plaats", "Telefoon",
         "Email", "KvK-nummer", "BTW-nummer", "IBAN"],
        {"Relatiecode": "client_number", "Naam": "name", "KvK-nummer": "kvk_number",
         "BTW-nummer": "vat_number", "Contactpersoon": "contact_name", "Email": "contact_email"}),
    "Twinfield (debiteuren)": (
        ["Code", "Naam", "Website", "Contactpersoon", "E-mailadres", "Btw-nummer", "KvK-nummer"],
        {"Code": "client_number", "Naam": "name", "KvK-nummer": "kvk_number",
         "Btw-nummer": "vat_number", "Contactpersoon": "contact_name",
         "E-mailadres": "contact_email"}),
    "AFAS (organisaties)": (
        ["Nummer", "Naam", "Organisatie KvK-nummer", "Btw-identificatienummer",
         "Contactpersoon", "E-mail werk", "Telefoonnr. werk"],
        {"Nummer": "client_number", "Naam": "name", "Organisatie KvK-nummer": "kvk_number",
         "Btw-identificatienummer": "vat_number", "Contactpersoon": "contact_name",
         "E-mail werk": "contact_email"}),
    "Nmbrs (bedrijven)": (
        ["Bedrijfsnummer", "Bedrijfsnaam", "KvK nummer", "Loonheffingennummer",
         "Contactpersoon", "E-mail contactpersoon"],
        {"Bedrijfsnummer": "client_number", "Bedrijfsnaam": "name", "KvK nummer": "kvk_number",
         "Contactpersoon": "contact_name", "E-mail contactpersoon": "contact_email"}),
    "a practice's own sheet in English": (
        ["Client number", "Company name", "CoC number", "VAT number", "Contact person",
         "Email address", "Contact person 2", "Email address 2", "Tier"],
        {"Client number": "client_number", "Company name": "name", "CoC number": "kvk_number",
         "VAT number": "vat_number", "Contact person": "contact_name",
         "Email address": "contact_email", "Contact person 2": "contact2_name",
         "Email address 2": "contact2_email", "Tier": "tier"}),
}


@pytest.mark.parametrize("package", EXPORTS)
def test_the_columns_of_each_packages_export_are_guessed(package):
    header, expected = EXPORTS[package]
    guessed = {header[int(index)]: field for index, field in guess_mapping(header, None).items()}
    assert guessed == expected


def test_a_practices_remembered_choice_wins_over_the_guess():
    header = ["Code", "Naam", "Nummer"]
    guessed = guess_mapping(header, {"nummer": "client_number"})
    assert {header[int(i)]: f for i, f in guessed.items()} == {"Nummer": "client_number",
                                                               "Naam": "name"}
