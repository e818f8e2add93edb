//! E-mail parsing never panics, and a parsed address parses to itself again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_identity::Email;

fuzz_target!(|input: &str| {
    if let Ok(email) = Email::parse(input) {
        let again = Email::parse(email.as_str()).expect("a normalised address must parse again");
        assert_eq!(again, email);
        assert!(!email.as_str().chars().any(char::is_whitespace));
    }
});
