"""Made-up people for the demo CRM: small built-in lists, combined deterministically from a seed."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES = (
    "Aarav", "Ananya", "Vikram", "Meera", "Rohan", "Kavya", "Ishaan", "Diya", "Arjun", "Sneha",
    "Sofia", "Lukas", "Emma", "Noah", "Amélie", "Jonas", "Giulia", "Mateo", "Freya", "Oliver",
    "Maria", "João", "Beatriz", "Rafael", "Ava", "Liam", "Mia", "Ethan", "Zainab", "Kwame",
)  # fmt: skip
LAST_NAMES = (
    "Sharma", "Iyer", "Nair", "Patel", "Reddy", "Banerjee", "Kapoor", "Menon", "Gupta", "Joshi",
    "Müller", "Schmidt", "Rossi", "Bianchi", "Dubois", "Martin", "Jansen", "Kowalski", "Novak", "Andersson",
    "Silva", "Santos", "Costa", "Pereira", "Smith", "Johnson", "Brown", "O'Connor", "Nguyen", "Okafor",
)  # fmt: skip
# (city, ISO country, phone country code)
PLACES = (
    ("Bengaluru", "IN", "91"), ("Mumbai", "IN", "91"), ("Chennai", "IN", "91"), ("Pune", "IN", "91"),
    ("Berlin", "DE", "49"), ("Lyon", "FR", "33"), ("Milan", "IT", "39"), ("Utrecht", "NL", "31"),
    ("Manchester", "GB", "44"), ("São Paulo", "BR", "55"), ("Lisbon", "PT", "351"), ("San Jose", "US", "1"),
)  # fmt: skip
COMPANIES = ("Nimbus Traders", "Kite Logistics", "Bluefin Foods", "Orchid Clinics", "Saffron Studio", "Granite Works")
STREETS = ("MG Road", "Hauptstraße", "Rue de la République", "Via Roma", "High Street", "Rua Augusta", "Main Street")
AGENTS = ("Neha (support)", "Karthik (sales)", "Julia (support)", "Marco (billing)", "Fatima (success)")
TICKET_SUBJECTS = (
    "Cannot export contacts to CSV",
    "Invoice shows the wrong GST number",
    "Two-factor codes arrive late",
    "Please merge duplicate leads",
    "Dialer drops calls after 30 seconds",
    "How do I add a teammate?",
)
TICKET_BODIES = (
    "Hi, since yesterday the export button spins forever. We have about 4,000 contacts. Thanks!",
    "Our invoice for last month lists an old GST number; could you reissue it with the new one?",
    "The SMS codes take several minutes to arrive on my phone, which makes logging in painful.",
    "We imported the same list twice by mistake. Is there a way to merge the duplicates?",
    "Calls from the web dialer end after half a minute; the other side hears nothing.",
)
REPLIES = (
    "Thanks for reporting this, we are looking into it.",
    "Could you send a screenshot of the error?",
    "This is fixed now; please try again and let us know.",
    "Thank you, it works now.",
)
CALL_NOTES = ("Asked about pricing for 10 seats", "Follow-up on ticket", "Renewal reminder", "Onboarding call", "")
EVENTS = ("login", "export_contacts", "create_lead", "send_campaign", "view_report", "update_profile")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile",
)
CONSENT_TOPICS = (("email", "newsletter"), ("sms", "offers"), ("whatsapp", "offers"), ("phone", "product_news"))


@dataclass(frozen=True)
class FakePerson:
    full_name: str
    email: str
    phone: str
    city: str
    country: str
    company: str
    street: str


def ascii_slug(text: str) -> str:
    """'Amélie O'Connor' → 'amelie.oconnor' for made-up email addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ".".join("".join(ch for ch in part if ch.isalnum()) for part in plain.lower().split())


def format_phone(country_code: str, digits: str) -> str:
    """Written the way a CRM user would type it, with spaces: '+91 98450 12345'."""
    return f"+{country_code} {digits[:5]} {digits[5:]}"


def fake_person(rng: random.Random, number: int) -> FakePerson:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, country, code = rng.choice(PLACES)
    # The number is in the address and the phone so no two made-up people share either.
    email = f"{ascii_slug(first + ' ' + last)}.{number}@example.{rng.choice(('com', 'net', 'org'))}"
    phone = format_phone(code, f"7{number:05d}{rng.randrange(10_000):04d}")
    street = f"{rng.randrange(1, 200)} {rng.choice(STREETS)}, {city}"
    return FakePerson(f"{first} {last}", email, phone, city, country, rng.choice(COMPANIES), street)
