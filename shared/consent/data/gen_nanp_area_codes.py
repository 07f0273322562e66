#!/usr/bin/env python3
# Generates nanp_area_codes.csv: every geographic NANP area code of the US, Canada and the US
# territories, with its 2-letter state/province/territory code and IANA time zone(s).
#
# Source: Google libphonenumber's number metadata, geocoding and timezone metadata, via the
# `phonenumbers` PyPI package (version 9.0.43 when the committed CSV was generated; the version
# used is written into the CSV header).
#
# Usage:
#   python3 -m venv /tmp/pn && /tmp/pn/bin/pip install phonenumbers
#   /tmp/pn/bin/python gen_nanp_area_codes.py > nanp_area_codes.csv
#
# Method:
# - An area code NXX (200-999) is kept when some number in it is valid and geographic
#   (`is_valid_number` and `is_number_geographical`: this drops toll-free, 500, 900, 600...)
#   and its region is the US, Canada or a US territory (other NANP countries are dropped).
# - Its zones are the union of `time_zones_for_geographical_number` over every exchange
#   200-999 (libphonenumber keys zones by area code with per-exchange overrides, so this
#   collects every zone it knows for the code). Zones are ordered by how many exchanges with
#   their own geocoding or timezone entry (a proxy for assigned, populated exchanges) map to
#   them, then by all exchanges, then by name: "most populous first".
# - The region comes from the area code's geocoding description (a state or province name,
#   or "City, ST"), falling back to a majority vote over its exchanges' descriptions. Combined
#   descriptions take their first-named (most populous) member.

import datetime
import sys
from collections import Counter

import phonenumbers
from phonenumbers import PhoneNumberType, timezone
from phonenumbers.geodata import GEOCODE_DATA
from phonenumbers.tzdata import TIMEZONE_DATA

# NANP regions we serve: the US, Canada and the US territories.
KEPT_REGIONS = {"US", "CA", "PR", "VI", "GU", "MP", "AS"}

NAME_TO_CODE = {
    # US states and DC
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Washington D.C.": "DC", "District of Columbia": "DC",
    # Canadian provinces and territories ("British Colombia" is a typo in the source data)
    "Alberta": "AB", "British Columbia": "BC", "British Colombia": "BC", "Manitoba": "MB",
    "New Brunswick": "NB", "Newfoundland and Labrador": "NL", "Newfoundland": "NL",
    "Nova Scotia": "NS", "Ontario": "ON", "Prince Edward Island": "PE", "Quebec": "QC",
    "Saskatchewan": "SK", "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
    # US territories
    "Puerto Rico": "PR", "U.S. Virgin Islands": "VI", "Guam": "GU",
    "Northern Mariana Islands": "MP", "American Samoa": "AS",
}
CODES = set(NAME_TO_CODE.values())

EXCHANGES = [ex for ex in range(200, 1000) if ex % 100 != 11]  # N11 are service codes


def region_of_description(desc):
    """'Florida' -> FL, 'Palm Beach, FL' -> FL, 'Nova Scotia/Prince Edward Island' -> NS."""
    if not desc:
        return None
    if ", " in desc:
        tail = desc.rsplit(", ", 1)[1].strip()
        if tail in CODES:
            return tail
        desc = tail
    first = desc.split("/")[0].strip()
    return NAME_TO_CODE.get(desc) or NAME_TO_CODE.get(first)


def number(ac, ex, line="1234"):
    return phonenumbers.parse(f"+1{ac}{ex}{line}")


def first_geographic_number(ac):
    for ex in EXCHANGES:
        num = number(ac, ex)
        if phonenumbers.is_valid_number(num) and phonenumbers.is_number_geographical(num):
            return num
    return None


def region_for(ac, country):
    if country != "US" and country != "CA":
        return country  # the territories' ISO codes are also their postal codes
    code = region_of_description(GEOCODE_DATA.get(f"1{ac}", {}).get("en"))
    if code:
        return code
    votes = Counter()
    for key, names in GEOCODE_DATA.items():
        if key.startswith(f"1{ac}") and len(key) > 4:
            code = region_of_description(names.get("en"))
            if code:
                votes[code] += 1
    if votes:
        return votes.most_common(1)[0][0]
    raise SystemExit(f"no region for area code {ac}")


def zones_for(ac):
    specific = {k[4:7] for k in list(GEOCODE_DATA) + list(TIMEZONE_DATA)
                if k.startswith(f"1{ac}") and len(k) >= 7}
    assigned, every = Counter(), Counter()
    for ex in EXCHANGES:
        zones = timezone.time_zones_for_geographical_number(number(ac, ex))
        zones = [z for z in zones if z != timezone.UNKNOWN_TIMEZONE]
        for z in zones:
            every[z] += 1.0 / len(zones)
            if str(ex) in specific:
                assigned[z] += 1.0 / len(zones)
    if not every:
        raise SystemExit(f"no time zone for area code {ac}")
    return sorted(every, key=lambda z: (-assigned[z], -every[z], z))


def main():
    rows = []
    for ac in range(200, 1000):
        num = first_geographic_number(ac)
        if num is None:
            continue
        country = phonenumbers.region_code_for_number(num)
        if country not in KEPT_REGIONS:
            continue
        rows.append((ac, region_for(ac, country), zones_for(ac)))
    out = sys.stdout
    today = datetime.date.today().isoformat()
    out.write(
        f"# Source: Google libphonenumber geocoding and timezone metadata, via the phonenumbers "
        f"PyPI package {phonenumbers.__version__}; generated {today} by gen_nanp_area_codes.py\n"
    )
    out.write("area_code,region,time_zones\n")
    for ac, region, zones in rows:
        out.write(f"{ac},{region},{'|'.join(zones)}\n")


if __name__ == "__main__":
    main()
