//! Realistic fake values for `Mapping::fake`: names that read like names, and numbers that look
//! real but fail their own checks (11-check, mod-97, number plans), so a fake can never be a
//! real person's BSN, account or phone number.

use crate::Label;

const GIVEN: &[&str] = &[
    "Lotte", "Daan", "Fenna", "Bram", "Yara", "Milan", "Noor", "Sem", "Ilse", "Joris", "Meryem", "Olaf", "Priya", "Ruben", "Saar", "Thijs",
    "Vera", "Wout", "Zehra", "Hidde", "Amira", "Gijs", "Liv", "Koen", "Esmee", "Jurre",
];
const SURNAMES: &[&str] = &[
    "Brouwer",
    "van Lier",
    "Kuipers",
    "de Ridder",
    "Meulman",
    "Okafor",
    "Verbeek",
    "ter Horst",
    "Aydın",
    "Schouten",
    "van Wijk",
    "Hoekstra",
    "Lindeman",
    "Mertens",
    "Ramdin",
    "Stam",
    "Veenstra",
    "Willemse",
    "Zwart",
    "Bos",
    "Dijkman",
    "El Idrissi",
    "Groen",
    "Huisman",
    "Jonker",
    "Koster",
];

/// How many distinct fake names there are; after them the tokens return.
pub(crate) const NAMES: u32 = 26 * 26;

/// The n-th fake person (0-based): "Lotte Brouwer", "Daan van Lier", …
pub(crate) fn name(n: u32) -> String {
    let g = GIVEN[n as usize % GIVEN.len()];
    let s = SURNAMES[(n as usize + n as usize / SURNAMES.len()) % SURNAMES.len()];
    format!("{g} {s}")
}

fn bsn_failing(seed: u32) -> String {
    let mut d: Vec<u32> =
        format!("{:09}", 100_000_000 + (seed.wrapping_mul(7_919) % 800_000_000)).chars().filter_map(|c| c.to_digit(10)).collect();
    loop {
        let sum: i64 = d[..8].iter().enumerate().map(|(k, v)| (9 - k as i64) * *v as i64).sum::<i64>() - d[8] as i64;
        if sum % 11 != 0 {
            break;
        }
        d[8] = (d[8] + 1) % 10;
    }
    d.iter().map(|v| char::from_digit(*v, 10).unwrap_or('0')).collect()
}

/// A fake value for the n-th value of a kind (1-based); `None` keeps the token.
pub(crate) fn value(label: Label, n: u32) -> Option<String> {
    // each kind has a range of distinct fakes; beyond it the token is used, never a repeat
    let room = match label {
        Label::Ip => 254,
        Label::Plate => 100,
        Label::Postcode => 999,
        Label::Kvk => 9_999,
        Label::Email => NAMES,
        _ => 99_999,
    };
    if n == 0 || n > room {
        return None;
    }
    Some(match label {
        Label::Bsn => bsn_failing(n),
        // an NL account whose check digits are one off: never passes mod-97
        Label::Iban => {
            let bban = format!("ABNA0{:09}", 100_000_000 + n);
            let good = (2..=98).find(|c| crate::patterns::iban_valid(format!("NL{c:02}{bban}").as_bytes())).unwrap_or(2);
            format!("NL{:02}{bban}", (good + 1) % 97)
        }
        // 06-0 numbers are not handed out
        Label::Phone => format!("06-0{:07}", 1_000_000 + n),
        Label::Email => format!("{}@example.org", name(n - 1).to_lowercase().replace(' ', ".").replace('ı', "i")),
        // Dutch postcodes start at 1000
        Label::Postcode => format!("0{n:03} AB"),
        Label::Address => format!("Voorbeeldstraat {n}"),
        Label::DateOfBirth => format!("{:02}-{:02}-19{:02}", 1 + n % 28, 1 + n % 12, 50 + n % 40),
        // side codes never hand out vowels in this shape
        Label::Plate => format!("AA-{:02}-EE", n - 1),
        Label::Kvk => format!("0000{n:04}"),
        Label::IdNumber => format!("XO{:06}0", n),
        // TEST-NET-1: documentation addresses, never a device
        Label::Ip => format!("192.0.2.{n}"),
        Label::CaseId => format!("X-{:06}", n),
        Label::City | Label::Url | Label::Term | Label::Person => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fakes_fail_their_checks() {
        for n in 1..500 {
            let b: Vec<u8> = bsn_failing(n).bytes().map(|c| c - b'0').collect();
            assert!(!crate::patterns::bsn_valid(&b), "{n}");
            let iban = value(Label::Iban, n).unwrap_or_default();
            assert!(!crate::patterns::iban_valid(iban.as_bytes()), "{iban}");
        }
        assert_eq!(name(0), "Lotte Brouwer");
        assert_ne!(name(26), name(0));
    }
}
