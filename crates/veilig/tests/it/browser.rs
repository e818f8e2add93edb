//! Real headless Chromium against a real server: what a person sees.

use veilig_testkit::Browser;

#[test]
fn dutch_home_page_language_switch_and_audit_log_in_chromium() {
    let server = crate::start(&[]);
    let b = Browser::start(1280, 860);
    b.goto(&server.url("/"));
    assert_eq!(b.text(&b.find("h1")), "Overzicht");
    assert_eq!(b.title(), "Overzicht · Veilig");
    b.save_screenshot("home-nl.png");

    // Keyboard: the first Tab reaches the skip link.
    b.press_key("\u{E004}");
    let focused = b.execute("return document.activeElement.className", vec![]);
    assert_eq!(focused, "skip");

    b.click(&b.find("a[hreflang=en]"));
    b.wait_for_text("h1", "Overview");

    b.goto(&server.url("/audit"));
    let action = b.find("#f-action");
    b.type_text(&action, "platform.");
    b.wait_for_text("#audit-rows", "platform.started");
    b.click(&b.find("button[hx-get='/audit/verify']"));
    b.wait_for_text("#verify-result", "Chain intact");
    b.save_screenshot("audit-en.png");
}

#[test]
fn pages_fit_a_phone_screen() {
    let server = crate::start(&[]);
    let b = Browser::start(390, 844);
    for path in ["/", "/audit"] {
        b.goto(&server.url(path));
        b.find("h1");
        let fits = b.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1", vec![]);
        assert_eq!(fits, true, "{path} scrolls sideways on a phone");
    }
    b.goto(&server.url("/"));
    b.save_screenshot("home-nl-phone.png");
}
