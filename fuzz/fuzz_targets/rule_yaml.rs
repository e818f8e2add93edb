//! Any rule file text gives a checked rule or an error naming the file, never a panic; a rule
//! that compiles runs in the engine over a few events without a panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use veilig_monitor::engine::{Budget, Engine};
use veilig_monitor::{Event, Kind};

fuzz_target!(|text: &str| {
    match veilig_monitor::rules::parse_rule("fuzz.yaml", text) {
        Ok((_, Some(rule))) => {
            let mut engine = Engine::new(vec![rule], Budget { max_keys: 8 });
            let mut out = Vec::new();
            for i in 0..32i64 {
                let mut e = Event::new(i * 1000, if i % 3 == 0 { Kind::AuthSuccess } else { Kind::AuthFailure }, "sshd");
                e.src = Some(std::net::IpAddr::from([192, 0, 2, (i % 5) as u8]));
                e.user = "root";
                e.dst_port = Some(22);
                engine.push(&e, &mut out);
            }
        }
        Ok((_, None)) => {}
        Err(e) => assert!(e.to_string().starts_with("fuzz.yaml: ")),
    }
});
