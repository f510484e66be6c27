//! Generated manifests against both of Slack's manifest schemas, hostile
//! names included, and a snapshot of the default one.

use std::path::PathBuf;

use herald_model::manifest::{Manifest, ManifestOptions};
use serde_json::Value;

/// `../shared/slack/` beside the project, where the schemas are kept.
fn schema(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/slack").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {} (the project's shared folder, beside the repository): {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn validators() -> Vec<(&'static str, jsonschema::Validator)> {
    ["manifest.schema.1.0.0.json", "slack-app-manifest.json"]
        .into_iter()
        .map(|file| (file, jsonschema::validator_for(&schema(file)).unwrap_or_else(|e| panic!("{file}: {e}"))))
        .collect()
}

fn assert_valid(manifest: &Manifest, validators: &[(&str, jsonschema::Validator)]) {
    // Validate what operators paste: the YAML, read back.
    let yaml = manifest.to_yaml();
    let from_yaml: Value = serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let from_json: Value = serde_json::from_str(&manifest.to_json()).unwrap();
    assert_eq!(from_yaml, from_json, "the YAML and JSON views say the same");
    assert_eq!(serde_yaml::from_str::<Manifest>(&yaml).unwrap(), *manifest, "the YAML reads back as the same manifest");
    for (file, validator) in validators {
        let errors: Vec<String> = validator.iter_errors(&from_yaml).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{file} refuses the manifest:\n{}\n{yaml}", errors.join("\n"));
    }
}

#[test]
fn the_default_manifest_passes_both_schemas() {
    let validators = validators();
    assert_valid(&Manifest::new(&ManifestOptions::new("https://herald.acme.example/")), &validators);
    let mut grid = ManifestOptions::new("https://herald.acme.example");
    grid.enterprise_grid = true;
    let manifest = Manifest::new(&grid);
    assert!(manifest.settings.org_deploy_enabled);
    assert_valid(&manifest, &validators);
}

#[test]
fn the_socket_mode_manifest_passes_both_schemas_and_asks_slack_to_call_nothing() {
    let validators = validators();
    for grid in [false, true] {
        let options = ManifestOptions { socket_mode: true, enterprise_grid: grid, ..ManifestOptions::new("http://herald.internal") };
        let manifest = Manifest::new(&options);
        assert!(manifest.settings.socket_mode_enabled);
        assert_eq!(manifest.settings.interactivity.request_url, None);
        assert_eq!(manifest.settings.event_subscriptions.request_url, None);
        assert!(manifest.settings.interactivity.is_enabled, "buttons and modals still come, over the socket");
        assert_eq!(manifest.settings.event_subscriptions.bot_events, ["member_joined_channel", "app_uninstalled", "tokens_revoked"]);
        // The browser follows the redirect, so an internal host is fine.
        assert_eq!(manifest.oauth_config.redirect_urls, ["http://herald.internal/slack/oauth/callback"]);
        assert!(!manifest.to_yaml().contains("request_url"));
        assert_valid(&manifest, &validators);
    }
}

#[test]
fn user_groups_add_their_scope_only_when_asked_for() {
    let validators = validators();
    let plain = Manifest::new(&ManifestOptions::new("https://herald.acme.example"));
    assert!(!plain.oauth_config.scopes.bot.iter().any(|s| s == "usergroups:read"), "not by default");
    let options = ManifestOptions { user_groups: true, ..ManifestOptions::new("https://herald.acme.example") };
    let manifest = Manifest::new(&options);
    assert_eq!(manifest.oauth_config.scopes.bot.last().map(String::as_str), Some("usergroups:read"));
    assert_eq!(manifest.oauth_config.scopes.bot.len(), plain.oauth_config.scopes.bot.len() + 1);
    assert_valid(&manifest, &validators);
}

#[test]
fn hostile_names_stay_valid_and_mean_what_was_typed() {
    let validators = validators();
    for name in [
        r#"Acme: "prod" alerts"#,
        "Acme: \"prod\"\n- x",
        "'; DROP TABLE apps; --",
        "key: value # comment",
        "🚨 Security 🚨 Alerts 🚨",
        "&anchor *alias !tag |",
        "   ",
        "A name that is much longer than thirty-five characters",
        "null",
        "yes",
        "0x1F",
    ] {
        let mut options = ManifestOptions::new("https://herald.acme.example/");
        options.app_name = name.to_owned();
        let manifest = Manifest::new(&options);
        assert_valid(&manifest, &validators);
        let yaml_name: Value = serde_yaml::from_str::<Value>(&manifest.to_yaml()).unwrap()["display_information"]["name"].clone();
        assert!(yaml_name.is_string(), "{name:?} must stay a string, got {yaml_name}");
        assert_eq!(yaml_name, Value::String(manifest.display_information.name.clone()));
        assert!(manifest.display_information.name.chars().count() <= 35, "{name:?}");
    }
}

/// Reads each YAML text as a YAML 1.1 parser does (PyYAML's `safe_load`,
/// as Python tools, older Ruby and Go libraries read it), as JSON values.
fn read_as_yaml_1_1(texts: &[String]) -> Vec<Value> {
    use std::io::Write as _;
    let script = "import json, sys, yaml\n\
                  texts = json.load(sys.stdin)\n\
                  print(json.dumps([yaml.safe_load(t) for t in texts], default=lambda v: {'not a string': str(v)}))";
    let mut python = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("this test reads the manifest as YAML 1.1 with python3 and PyYAML: apt-get install python3-yaml");
    python.stdin.take().unwrap().write_all(serde_json::to_string(texts).unwrap().as_bytes()).unwrap();
    let output = python.wait_with_output().unwrap();
    assert!(output.status.success(), "python3 with PyYAML (apt-get install python3-yaml) could not read the manifests");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_yaml_1_1_reader_sees_the_same_manifest_whatever_the_name() {
    let validators = validators();
    let names = [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Yes",
        "NO",
        "true",
        "null",
        "~",
        "2026-11-29",
        "2026-11-29 10:00:00",
        "1e3",
        "0x1F",
        "012",
        "0o17",
        "1_000",
        ".inf",
        "-.nan",
        "=",
        "<<",
        "- a",
        "? a",
        ": a",
        "#a",
        "&a",
        "*a",
        "!a",
        "%a",
        "@a",
        "`a",
        "'a",
        "\"a",
        "a: b",
        "a #b",
        "\u{7f}a",
        "a\u{85}b",
        "a\u{2028}b",
        "\u{feff}a",
        "a\u{0}b",
        "10:20:30",
        "0b101",
    ];
    let manifests: Vec<Manifest> = names
        .iter()
        .map(|name| {
            let mut options = ManifestOptions::new("https://herald.acme.example/");
            options.app_name = name.to_string();
            Manifest::new(&options)
        })
        .collect();
    let texts: Vec<String> = manifests.iter().map(Manifest::to_yaml).collect();
    let read = read_as_yaml_1_1(&texts);
    for ((name, manifest), as_1_1) in names.iter().zip(&manifests).zip(&read) {
        let json: Value = serde_json::from_str(&manifest.to_json()).unwrap();
        assert_eq!(as_1_1, &json, "{name:?}: a YAML 1.1 reader reads another manifest");
        for (file, validator) in &validators {
            let errors: Vec<String> = validator.iter_errors(as_1_1).map(|e| format!("{e} at {}", e.instance_path())).collect();
            assert!(errors.is_empty(), "{name:?}: {file} refuses the manifest as YAML 1.1 reads it: {errors:?}");
        }
    }
}

#[test]
fn a_changed_name_is_said_not_made_silently() {
    use herald_model::manifest::app_name_note;
    assert_eq!(app_name_note("Acme alerts"), None);
    assert!(app_name_note("").unwrap().contains("empty"));
    assert!(app_name_note("   ").unwrap().contains("\"Herald\""));
    assert!(app_name_note(&"x".repeat(50)).unwrap().contains("35 characters"));
    assert!(app_name_note("Acme\n  alerts").unwrap().contains("\"Acme alerts\""));
}

#[test]
fn the_manifest_points_slack_at_herald_s_endpoints() {
    let manifest = Manifest::new(&ManifestOptions::new("https://herald.acme.example"));
    assert_eq!(manifest.oauth_config.redirect_urls, ["https://herald.acme.example/slack/oauth/callback"]);
    assert_eq!(manifest.settings.interactivity.request_url.as_deref(), Some("https://herald.acme.example/slack/interactivity"));
    assert_eq!(manifest.settings.event_subscriptions.request_url.as_deref(), Some("https://herald.acme.example/slack/events"));
    assert!(manifest.features.bot_user.always_online);
    assert!(!manifest.settings.socket_mode_enabled);
    for scope in ["chat:write", "channels:read", "groups:read", "users:read", "users:read.email", "im:write"] {
        assert!(manifest.oauth_config.scopes.bot.iter().any(|s| s == scope), "{scope}");
    }
    for event in ["member_joined_channel", "app_uninstalled", "tokens_revoked"] {
        assert!(manifest.settings.event_subscriptions.bot_events.iter().any(|e| e == event), "{event}");
    }
}

#[test]
fn the_default_manifest_reads_as_reviewed() {
    let manifest = Manifest::new(&ManifestOptions::new("https://herald.acme.example/"));
    insta::assert_snapshot!("default_manifest_yaml", manifest.to_yaml());
    insta::assert_snapshot!("default_manifest_json", manifest.to_json());
}
