"""Which timezone a service's hours are in: its own, else its country's main zone."""

COUNTRY_ZONES = {
    "PH": "Asia/Manila", "AU": "Australia/Sydney", "BE": "Europe/Brussels",
    "CA": "America/Toronto", "DE": "Europe/Berlin", "FR": "Europe/Paris",
    "GB": "Europe/London", "ID": "Asia/Jakarta", "KH": "Asia/Phnom_Penh",
    "MY": "Asia/Kuala_Lumpur", "NL": "Europe/Amsterdam", "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm", "TH": "Asia/Bangkok", "US": "America/New_York",
    "VN": "Asia/Ho_Chi_Minh",
}  # fmt: skip
DEFAULT_ZONE = "Asia/Manila"


def service_timezone(country_code: str | None, schedule_zone: str | None = None) -> str:
    """The IANA zone to read a service's opening hours in."""
    return schedule_zone or COUNTRY_ZONES.get(country_code or "", DEFAULT_ZONE)
