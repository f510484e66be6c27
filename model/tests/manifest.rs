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

#[test]
fn the_manifest_points_slack_at_herald_s_endpoints() {
    let manifest = Manifest::new(&ManifestOptions::new("https://herald.acme.example"));
    assert_eq!(manifest.oauth_config.redirect_urls, ["https://herald.acme.example/slack/oauth/callback"]);
    assert_eq!(manifest.settings.interactivity.request_url, "https://herald.acme.example/slack/interactivity");
    assert_eq!(manifest.settings.event_subscriptions.request_url, "https://herald.acme.example/slack/events");
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
