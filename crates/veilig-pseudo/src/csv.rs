//! CSV, column-aware: a column whose header names a kind of personal data ("naam", "bsn",
//! "woonplaats") is replaced cell by cell; other columns are read as text.

use crate::Label;

/// One cell: its content's byte range in the input (inside the quotes) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub start: usize,
    pub end: usize,
    /// The content has doubled quotes, so its bytes are not the value's.
    pub escaped: bool,
    pub value: String,
}

/// Splits RFC 4180 CSV (comma or semicolon, guessed from the first line) into rows of cells.
pub fn cells(text: &str) -> Vec<Vec<Cell>> {
    let first_line = text.lines().next().unwrap_or("");
    let sep = if first_line.matches(';').count() > first_line.matches(',').count() { b';' } else { b',' };
    let b = text.as_bytes();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut i = 0;
    while i <= b.len() {
        if i < b.len() && b[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            let mut value = Vec::new();
            let mut escaped = false;
            while j < b.len() {
                if b[j] == b'"' {
                    if j + 1 < b.len() && b[j + 1] == b'"' {
                        value.push(b'"');
                        escaped = true;
                        j += 2;
                        continue;
                    }
                    break;
                }
                value.push(b[j]);
                j += 1;
            }
            row.push(Cell { start, end: j.min(b.len()), escaped, value: String::from_utf8_lossy(&value).into_owned() });
            i = j + 1;
            while i < b.len() && b[i] != sep && b[i] != b'\n' {
                i += 1;
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != sep && b[i] != b'\n' {
                i += 1;
            }
            let mut end = i;
            if end > start && b[end - 1] == b'\r' {
                end -= 1;
            }
            row.push(Cell { start, end, escaped: false, value: text[start..end].to_string() });
        }
        if i >= b.len() {
            if !(row.len() == 1 && row[0].value.is_empty()) {
                rows.push(std::mem::take(&mut row));
            }
            break;
        }
        if b[i] == b'\n' {
            rows.push(std::mem::take(&mut row));
        }
        i += 1;
    }
    rows
}

/// The values only.
pub fn parse(text: &str) -> Vec<Vec<String>> {
    cells(text).into_iter().map(|r| r.into_iter().map(|c| c.value).collect()).collect()
}

/// The kind of personal data a column holds, from its header.
pub fn column_label(header: &str) -> Option<Label> {
    let h: String = header.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    let h = h.as_str();
    let any = |words: &[&str]| words.contains(&h);
    let contains = |words: &[&str]| words.iter().any(|w| h.contains(w));
    if contains(&["bsn", "burgerservice", "sofinummer"]) {
        return Some(Label::Bsn);
    }
    if contains(&["iban", "rekeningnummer", "bankrekening", "bankaccount"]) || any(&["rekening", "account"]) {
        return Some(Label::Iban);
    }
    if contains(&["geboortedatum", "dateofbirth", "birthdate", "gebdatum", "geboortedag"]) || any(&["dob", "geboren", "born"]) {
        return Some(Label::DateOfBirth);
    }
    if contains(&["email", "mailadres"]) || any(&["mail"]) {
        return Some(Label::Email);
    }
    if contains(&["telefoon", "phone", "mobiel", "mobile", "gsm"]) || any(&["tel", "telnr"]) {
        return Some(Label::Phone);
    }
    if contains(&["postcode", "zipcode", "postalcode"]) || any(&["zip"]) {
        return Some(Label::Postcode);
    }
    if contains(&["woonplaats", "geboorteplaats", "placeofbirth", "birthplace"]) || any(&["plaats", "city", "town", "stad"]) {
        return Some(Label::City);
    }
    if contains(&["kenteken", "licenseplate", "licenceplate", "numberplate"]) || any(&["plate"]) {
        return Some(Label::Plate);
    }
    if contains(&["kvk"]) {
        return Some(Label::Kvk);
    }
    if contains(&["paspoort", "passport", "documentnummer", "idnummer", "idnumber", "identiteitsbewijs"]) {
        return Some(Label::IdNumber);
    }
    if any(&["ip", "ipadres", "ipaddress"]) {
        return Some(Label::Ip);
    }
    if contains(&[
        "dossier",
        "clientnummer",
        "cliëntnummer",
        "clientnr",
        "cliëntnr",
        "patientnummer",
        "patiëntnummer",
        "zaaknummer",
        "casenumber",
        "caseid",
        "clientid",
        "lidnummer",
        "personeelsnummer",
        "klantnummer",
        "membernumber",
        "employeeid",
        "leerlingnummer",
        "polisnummer",
    ]) {
        return Some(Label::CaseId);
    }
    if contains(&["adres", "address", "straat", "street", "huisnummer"]) {
        return Some(Label::Address);
    }
    if contains(&["naam", "name", "contactpersoon", "surname"])
        || any(&[
            "client",
            "cliënt",
            "patient",
            "patiënt",
            "werknemer",
            "employee",
            "medewerker",
            "huurder",
            "tenant",
            "ouder",
            "parent",
            "lid",
            "member",
            "leerling",
            "student",
            "voornaam",
            "achternaam",
            "roepnaam",
            "initialen",
            "voorletters",
            "initials",
            "tussenvoegsel",
        ])
    {
        return Some(Label::Person);
    }
    None
}
