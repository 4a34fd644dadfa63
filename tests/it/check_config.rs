//! `kruimel check-config`: the real binary on a real file, telling the
//! webmaster what the privacy page's register entry lacks.

use std::process::Command;

/// Runs `check-config` on `toml` with nothing from this process's
/// environment; its exit success, stdout and stderr.
fn check_config(toml: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kruimel.toml");
    std::fs::write(&path, toml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kruimel"))
        .env_clear()
        .envs(env.iter().copied())
        .arg("check-config")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

const SITES: &str = "[[sites]]\nid = \"gemeente.example\"\n";

#[test]
fn check_config_warns_about_each_missing_register_field() {
    let (valid, stdout, stderr) = check_config(SITES, &[]);
    assert!(
        valid,
        "warnings do not make a configuration invalid: {stderr}"
    );
    assert!(stdout.contains("configuration is valid: 1 site(s)"));
    for missing in [
        "register.controller is not set",
        "register.dpo is not set",
        "register.processor is not set",
        "register.updated is not set",
    ] {
        let line = format!("warning: site gemeente.example: {missing}");
        assert!(stderr.contains(&line), "{line:?} in {stderr}");
    }
    // The reminder for the webmaster is here, not on the public page.
    assert!(stderr.contains("note: the privacy page states the legal basis"));
    assert!(stderr.contains("have your data protection officer (FG) confirm it"));
}

#[test]
fn check_config_is_quiet_about_a_complete_register() {
    let today = jiff::Zoned::now().date();
    let toml = format!(
        r#"[register]
controller = {{ name = "Gemeente Voorbeeld", email = "privacy@gemeente.example" }}
dpo = {{ name = "FG", email = "fg@gemeente.example" }}
processor = "none"
updated = {}
{SITES}"#,
        today.tomorrow().unwrap()
    );
    let (valid, _, stderr) = check_config(&toml, &[]);
    assert!(valid);
    assert!(!stderr.contains("warning:"), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "only the legal-basis note: {stderr}"
    );
}

#[test]
fn check_config_reads_the_register_from_the_environment_too() {
    let (valid, _, stderr) = check_config(
        SITES,
        &[
            (
                "KRUIMEL_REGISTER__CONTROLLER",
                r#"{ name = "Gemeente", phone = "14 0123" }"#,
            ),
            ("KRUIMEL_REGISTER__DPO__NAME", "FG"),
            (
                "KRUIMEL_REGISTER__PROCESSOR",
                r#"{ name = "Hoster BV", email = "a@hoster.example" }"#,
            ),
        ],
    );
    assert!(valid, "{stderr}");
    assert!(!stderr.contains("register.controller"), "{stderr}");
    assert!(
        !stderr.contains("register.processor is not set"),
        "{stderr}"
    );
    assert!(stderr.contains(
        "warning: site gemeente.example: register.dpo has a name but no contact details"
    ));
    assert!(stderr.contains("make sure Hoster BV runs the server inside the EU"));
    assert!(stderr.contains("warning: site gemeente.example: register.updated is not set"));
}

#[test]
fn a_configuration_file_newer_than_the_register_date_is_noted() {
    let toml = format!("[register]\nupdated = 2020-01-01\n{SITES}");
    let (_, _, stderr) = check_config(&toml, &[]);
    assert!(
        stderr.contains("after register.updated (2020-01-01)"),
        "{stderr}"
    );
}

#[test]
fn a_misspelt_register_key_is_refused() {
    let (valid, _, stderr) = check_config(
        &format!("[register]\ncontroler = {{ name = \"x\" }}\n{SITES}"),
        &[],
    );
    assert!(!valid);
    assert!(stderr.contains("controler"), "{stderr}");
}
