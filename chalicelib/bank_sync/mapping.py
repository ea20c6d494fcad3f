"""Plaid's terms in ours, as pure functions: account types, signs, money, categories."""

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")

# Plaid's personal_finance_category confidence_level as our categorization_confidence.
CONFIDENCE = {"VERY_HIGH": Decimal("0.95"), "HIGH": Decimal("0.85"), "MEDIUM": Decimal("0.65"), "LOW": Decimal("0.40")}
UNKNOWN_CONFIDENCE = Decimal("0.30")

# Plaid's detailed categories that have a sub-category of our default tree...
DETAILED = {
    "INCOME_WAGES": ("Income", "Salary"),
    "INCOME_INTEREST_EARNED": ("Income", "Interest"),
    "INCOME_DIVIDENDS": ("Income", "Dividends"),
    "INCOME_TAX_REFUND": ("Income", "Refunds & Reimbursements"),
    "FOOD_AND_DRINK_GROCERIES": ("Food & Dining", "Groceries"),
    "FOOD_AND_DRINK_RESTAURANT": ("Food & Dining", "Restaurants"),
    "FOOD_AND_DRINK_COFFEE": ("Food & Dining", "Coffee Shops"),
    "FOOD_AND_DRINK_FAST_FOOD": ("Food & Dining", "Fast Food"),
    "TRANSPORTATION_GAS": ("Transportation", "Fuel"),
    "TRANSPORTATION_PUBLIC_TRANSIT": ("Transportation", "Public Transit"),
    "TRANSPORTATION_PARKING": ("Transportation", "Parking"),
    "TRANSPORTATION_TAXIS_AND_RIDE_SHARES": ("Transportation", "Ride Share"),
    "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES": ("Shopping", "Clothing"),
    "GENERAL_MERCHANDISE_ELECTRONICS": ("Shopping", "Electronics"),
    "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES": ("Shopping", "Online Shopping"),
    "RENT_AND_UTILITIES_RENT": ("Housing", "Rent"),
    "LOAN_PAYMENTS_MORTGAGE_PAYMENT": ("Housing", "Mortgage"),
    "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY": ("Utilities", "Electricity"),
    "RENT_AND_UTILITIES_WATER": ("Utilities", "Water"),
    "RENT_AND_UTILITIES_INTERNET_AND_CABLE": ("Utilities", "Internet"),
    "RENT_AND_UTILITIES_TELEPHONE": ("Utilities", "Phone"),
    "MEDICAL_PHARMACIES_AND_SUPPLEMENTS": ("Health", "Pharmacy"),
    "MEDICAL_PRIMARY_CARE": ("Health", "Doctor"),
    "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS": ("Health", "Fitness"),
    "ENTERTAINMENT_TV_AND_MOVIES": ("Entertainment", "Streaming"),
    "ENTERTAINMENT_SPORTING_EVENTS_AMUSEMENT_PARKS_AND_MUSEUMS": ("Entertainment", "Events"),
    "ENTERTAINMENT_VIDEO_GAMES": ("Entertainment", "Games"),
    "TRAVEL_FLIGHTS": ("Travel", "Flights"),
    "TRAVEL_LODGING": ("Travel", "Hotels"),
    "BANK_FEES_INTEREST_CHARGE": ("Fees", "Interest Charges"),
}
# ... and every primary category a top-level one.
PRIMARY = {
    "INCOME": ("Income", None),
    "TRANSFER_IN": ("Transfers", None),
    "TRANSFER_OUT": ("Transfers", None),
    "LOAN_PAYMENTS": ("Transfers", None),
    "BANK_FEES": ("Fees", "Bank Fees"),
    "ENTERTAINMENT": ("Entertainment", None),
    "FOOD_AND_DRINK": ("Food & Dining", None),
    "GENERAL_MERCHANDISE": ("Shopping", None),
    "HOME_IMPROVEMENT": ("Housing", "Home Maintenance"),
    "MEDICAL": ("Health", None),
    "PERSONAL_CARE": ("Personal Care", None),
    "GENERAL_SERVICES": ("Other", None),
    "GOVERNMENT_AND_NON_PROFIT": ("Gifts & Donations", None),
    "TRANSPORTATION": ("Transportation", None),
    "TRAVEL": ("Travel", None),
    "RENT_AND_UTILITIES": ("Utilities", None),
    "OTHER": ("Other", None),
}


def category_path(primary: str | None, detailed: str | None) -> tuple[str, str | None] | None:
    """Where Plaid's personal_finance_category sits in our default tree (top, sub)."""
    if detailed and detailed in DETAILED:
        return DETAILED[detailed]
    if primary and primary in PRIMARY:
        return PRIMARY[primary]
    return None


def confidence(level: str | None) -> Decimal:
    return CONFIDENCE.get((level or "").upper(), UNKNOWN_CONFIDENCE)


def account_type(plaid_type: str, subtype: str | None) -> str:
    """Plaid depository/checking|savings, credit, loan, investment as our account types."""
    subtype = (subtype or "").lower()
    if plaid_type == "depository":
        if subtype in ("savings", "money market", "cd", "hsa"):
            return "savings"
        return "checking" if subtype in ("checking", "paypal", "prepaid", "cash management", "") else "other"
    if plaid_type == "credit":
        return "credit_card"
    if plaid_type == "loan":
        return "loan"
    if plaid_type in ("investment", "brokerage"):
        return "investment"
    return "other"


def is_liability(plaid_type: str) -> bool:
    """Plaid reports what is owed on credit and loan accounts as a positive balance."""
    return plaid_type in ("credit", "loan")


def our_balance(plaid_type: str, current: Decimal) -> Decimal:
    value = round_cents(current)[0]
    return -value if is_liability(plaid_type) else value


def round_cents(amount: Decimal) -> tuple[Decimal, bool]:
    """Two decimals, half-even; whether rounding changed the value (worth a warning)."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)
    return cents, cents != amount


def our_amount(plaid_amount: Decimal) -> tuple[Decimal, bool]:
    """Plaid: positive = money leaving the account; ours: negative. Rounded to cents."""
    cents, rounded = round_cents(plaid_amount)
    return -cents, rounded


def language(locale: str | None) -> str:
    """The Link language for a user's locale (Plaid supports these; English otherwise)."""
    code = (locale or "en").split("-")[0].split("_")[0].lower()
    supported = {"da", "nl", "en", "et", "fr", "de", "hi", "it", "lv", "lt", "no", "pl", "pt", "ro", "es", "sv", "vi"}
    return code if code in supported else "en"
