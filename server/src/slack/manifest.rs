//! The Slack app manifest for this Herald, as the wizard, the API and
//! `herald manifest` give it.

use herald_model::manifest::{Manifest, ManifestFormat, ManifestOptions, ManifestText, app_name_note};

/// The manifest `options` ask for, in `format`.
pub fn manifest_text(options: &ManifestOptions, format: ManifestFormat) -> ManifestText {
    let manifest = Manifest::new(options);
    let public_url = &options.public_url;
    let text = match format {
        ManifestFormat::Yaml => manifest.to_yaml(),
        ManifestFormat::Json => manifest.to_json(),
    };
    // In Socket Mode Slack calls nothing: only the operator's browser
    // follows the OAuth redirect, so an internal URL is fine.
    let https = (!options.socket_mode && !public_url.starts_with("https://")).then(|| {
        format!(
            "Slack only calls https URLs, and Herald's public URL is {public_url}. Set HERALD_PUBLIC_URL to the https \
             address Slack can reach (through your proxy or tunnel) before creating the app, or choose Socket Mode \
             (Herald opens the connection to Slack; no public URL needed)."
        )
    });
    // Every change to what was asked for is said, not made silently.
    let notes: Vec<String> = app_name_note(&options.app_name).into_iter().chain(https).collect();
    let warning = (!notes.is_empty()).then(|| notes.join(" "));
    ManifestText { format, text, bot_display_name: manifest.features.bot_user.display_name, public_url: public_url.clone(), warning }
}
