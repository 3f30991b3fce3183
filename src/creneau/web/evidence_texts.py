# SPDX-License-Identifier: AGPL-3.0-or-later
"""Words of the evidence pages (`web/evidence.py`), French and English side by side."""

from __future__ import annotations

from typing import Final

TEXTS: Final = {
    "fr": {
        "title": "Preuves de mes tentatives",
        "intro": "En mode preuve, chaque vérification de cette démarche est enregistrée (date, heure, page reçue et "
        "son empreinte) dans un journal chaîné, et une capture d'écran est faite chaque jour. Vous pouvez en tirer un "
        "dossier PDF et des courriers pour la préfecture, le Défenseur des droits ou un avocat.",
        "on": "Le mode preuve est activé.",
        "auto": "Il a été activé automatiquement, car votre titre expire dans moins de deux mois.",
        "off": "Le mode preuve est désactivé.",
        "never": "Le mode preuve n'a jamais été activé pour cette surveillance.",
        "entries": "Entrées dans le journal",
        "switch_on": "Activer le mode preuve",
        "switch_off": "Désactiver le mode preuve",
        "dossier": "Télécharger le dossier de preuves",
        "from": "Du",
        "to": "Au",
        "lang": "Langue du dossier",
        "download": "Télécharger le PDF",
        "letters": "Courriers",
        "edit": "Préparer",
        "pack": "Dossier pour un avocat (zip)",
        "profile": "Mes informations pour les courriers",
        "profile_intro": "Ces informations figurent sur vos courriers et sur la couverture du dossier. Le numéro "
        "étranger est chiffré dans notre base ; vous seul pouvez le voir.",
        "full_name": "Nom et prénom",
        "postal_address": "Adresse postale",
        "numero_etranger": "Numéro étranger (facultatif)",
        "birth_date": "Date de naissance (facultatif)",
        "nationality": "Nationalité (facultatif)",
        "permit_expiry": "Date d'expiration de votre titre (rappels 4 et 2 mois avant)",
        "save": "Enregistrer",
        "saved": "Enregistré.",
        "calendar": "Calendrier privé des échéances",
        "calendar_make": "Créer une adresse de calendrier (l'ancienne cesse de fonctionner)",
        "calendar_url": "Abonnez votre agenda à cette adresse privée (elle ne sera plus affichée) :",
        "letter_intro": "Relisez et corrigez le courrier, puis enregistrez-le avant de le télécharger.",
        "explanation": "Explication (en anglais)",
        "missing": "Il manque des informations pour ce courrier : {fields}. Complétez vos informations.",
        "blanks": "Le courrier contient encore des éléments à compléter : {found}.",
        "export_pdf": "Télécharger en PDF",
        "export_txt": "Télécharger en texte",
        "back": "Retour",
        "bad_date": "Date invalide.",
    },
    "en": {
        "title": "Evidence of my attempts",
        "intro": "In evidence mode, every check of this procedure is recorded (date, time, the page received and its "
        "hash) in a hash-chained log, and a screenshot is taken each day. From it you can download a PDF dossier and "
        "letters for the prefecture, the Défenseur des droits or a lawyer.",
        "on": "Evidence mode is on.",
        "auto": "It was switched on automatically, because your permit expires within two months.",
        "off": "Evidence mode is off.",
        "never": "Evidence mode was never switched on for this watch.",
        "entries": "Entries in the log",
        "switch_on": "Switch evidence mode on",
        "switch_off": "Switch evidence mode off",
        "dossier": "Download the evidence dossier",
        "from": "From",
        "to": "To",
        "lang": "Dossier language",
        "download": "Download the PDF",
        "letters": "Letters",
        "edit": "Prepare",
        "pack": "Pack for a lawyer (zip)",
        "profile": "My details for the letters",
        "profile_intro": "These details appear on your letters and on the dossier's cover. Your numéro étranger is "
        "encrypted in our database; only you can see it.",
        "full_name": "Full name",
        "postal_address": "Postal address",
        "numero_etranger": "Numéro étranger (optional)",
        "birth_date": "Date of birth (optional)",
        "nationality": "Nationality (optional)",
        "permit_expiry": "Your permit's expiry date (reminders 4 and 2 months before)",
        "save": "Save",
        "saved": "Saved.",
        "calendar": "Private calendar of deadlines",
        "calendar_make": "Make a calendar address (the previous one stops working)",
        "calendar_url": "Subscribe your calendar to this private address (it will not be shown again):",
        "letter_intro": "Read and correct the letter (it is in French, the language of the administration), then "
        "save it before downloading.",
        "explanation": "What this letter is",
        "missing": "This letter needs details you have not given yet: {fields}. Complete your details.",
        "blanks": "The letter still has blanks to fill: {found}.",
        "export_pdf": "Download as PDF",
        "export_txt": "Download as text",
        "back": "Back",
        "bad_date": "Invalid date.",
    },
}


def texts(locale: str) -> dict[str, str]:
    return TEXTS["en" if locale == "en" else "fr"]
