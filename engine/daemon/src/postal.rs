//! The postal address block of letters, in the French postal order: the street lines, then
//! `POSTCODE CITY`, then the country name (French, in capitals) only when the country is not
//! France. Also the address as template variables (`address.lines`, `.postcode`, `.city`,
//! `.country`, `.block`).
//!
//! Pure formatting of a [`PostalAddress`]: it must not resolve contacts (render does) nor
//! guess parts the address lacks (a legacy address of lines only prints its lines).

use serde_json::json;

use relance_core::domain::PostalAddress;

/// French names (capitals, no accents) of the countries letters most often go to. Another code
/// prints as itself.
///
/// Kept as a table (checked 2026-12-07): the ISO 3166 crates (`isocountry`, `rust_iso3166`,
/// `countries-iso3166`) carry English names only; CLDR's French region names are in ICU4X's
/// `icu_experimental` (display names), not in its stable API we use for the filters; `keshvar`
/// (names in many languages) is a whole country database (geography, subdivisions, currencies)
/// for some forty names. The French postal norm (NF Z10-011) wants the name in capitals without
/// accents, which none of them gives as such.
const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "ANDORRE"),
    ("AE", "EMIRATS ARABES UNIS"),
    ("AR", "ARGENTINE"),
    ("AT", "AUTRICHE"),
    ("AU", "AUSTRALIE"),
    ("BE", "BELGIQUE"),
    ("BG", "BULGARIE"),
    ("BR", "BRESIL"),
    ("CA", "CANADA"),
    ("CH", "SUISSE"),
    ("CI", "COTE D'IVOIRE"),
    ("CL", "CHILI"),
    ("CM", "CAMEROUN"),
    ("CN", "CHINE"),
    ("CY", "CHYPRE"),
    ("CZ", "TCHEQUIE"),
    ("DE", "ALLEMAGNE"),
    ("DK", "DANEMARK"),
    ("DZ", "ALGERIE"),
    ("EE", "ESTONIE"),
    ("EG", "EGYPTE"),
    ("ES", "ESPAGNE"),
    ("FI", "FINLANDE"),
    ("GB", "ROYAUME-UNI"),
    ("GR", "GRECE"),
    ("HK", "HONG KONG"),
    ("HR", "CROATIE"),
    ("HU", "HONGRIE"),
    ("IE", "IRLANDE"),
    ("IL", "ISRAEL"),
    ("IN", "INDE"),
    ("IS", "ISLANDE"),
    ("IT", "ITALIE"),
    ("JP", "JAPON"),
    ("KR", "COREE DU SUD"),
    ("LI", "LIECHTENSTEIN"),
    ("LT", "LITUANIE"),
    ("LU", "LUXEMBOURG"),
    ("LV", "LETTONIE"),
    ("MA", "MAROC"),
    ("MC", "MONACO"),
    ("MT", "MALTE"),
    ("MX", "MEXIQUE"),
    ("NL", "PAYS-BAS"),
    ("NO", "NORVEGE"),
    ("NZ", "NOUVELLE-ZELANDE"),
    ("PL", "POLOGNE"),
    ("PT", "PORTUGAL"),
    ("RO", "ROUMANIE"),
    ("RS", "SERBIE"),
    ("SA", "ARABIE SAOUDITE"),
    ("SE", "SUEDE"),
    ("SG", "SINGAPOUR"),
    ("SI", "SLOVENIE"),
    ("SK", "SLOVAQUIE"),
    ("SN", "SENEGAL"),
    ("TN", "TUNISIE"),
    ("TR", "TURQUIE"),
    ("UA", "UKRAINE"),
    ("US", "ETATS-UNIS"),
    ("ZA", "AFRIQUE DU SUD"),
];

/// The name the last line of the block gives a country code.
pub fn country_name(code: &str) -> &str {
    COUNTRIES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .map_or(code, |i| COUNTRIES[i].1)
}

/// The lines of the address block: the street lines, `POSTCODE CITY` (either alone when the
/// other is missing), the country name unless the country is `FR` or absent.
pub fn block_lines(address: &PostalAddress) -> Vec<String> {
    let mut lines = address.lines.clone();
    let locality = [address.postcode.as_deref(), address.city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !locality.is_empty() {
        lines.push(locality);
    }
    if let Some(country) = address.country.as_deref().filter(|c| *c != "FR") {
        lines.push(country_name(country).to_string());
    }
    lines
}

/// The address block as one text, one line per line ([`block_lines`]).
pub fn block(address: &PostalAddress) -> String {
    block_lines(address).join("\n")
}

/// The `address` template variable: its parts and the ready-made `block` (all empty when
/// there is no address).
pub fn variables(address: Option<&PostalAddress>) -> serde_json::Value {
    let empty = PostalAddress::default();
    let a = address.unwrap_or(&empty);
    json!({
        "lines": a.lines,
        "postcode": a.postcode,
        "city": a.city,
        "country": a.country,
        "block": block(a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(lines: &[&str], postcode: &str, city: &str, country: &str) -> PostalAddress {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        PostalAddress {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            postcode: some(postcode),
            city: some(city),
            country: some(country),
        }
    }

    #[test]
    fn the_block_follows_the_french_postal_order() {
        assert_eq!(
            block(&address(
                &["Acme SA", "1 rue de la Paix"],
                "75002",
                "Paris",
                "FR"
            )),
            "Acme SA\n1 rue de la Paix\n75002 Paris"
        );
        assert_eq!(
            block(&address(&["Rue Neuve 1"], "1000", "Bruxelles", "BE")),
            "Rue Neuve 1\n1000 Bruxelles\nBELGIQUE"
        );
        assert_eq!(
            block(&address(&["Somewhere 1"], "", "Pristina", "XK")),
            "Somewhere 1\nPristina\nXK",
            "an unknown code prints as itself"
        );
        assert_eq!(
            block(&PostalAddress::from_text("1 rue A\n75001 Paris")),
            "1 rue A\n75001 Paris",
            "a legacy address prints its lines"
        );
    }

    #[test]
    fn the_country_table_is_sorted_for_binary_search() {
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(country_name("DE"), "ALLEMAGNE");
    }
}
