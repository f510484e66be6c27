//! The Slack app manifest for this Herald, as the wizard, the API and
//! `herald manifest` give it.

use herald_model::manifest::{Manifest, ManifestFormat, ManifestOptions, ManifestText, app_name_note};
use url::Url;

/// The manifest for Herald at `public_url`, in `format`.
pub fn manifest_text(public_url: &Url, app_name: &str, enterprise_grid: bool, format: ManifestFormat) -> ManifestText {
    let options = ManifestOptions { public_url: public_url.to_string(), app_name: app_name.to_owned(), enterprise_grid };
    let manifest = Manifest::new(&options);
    let text = match format {
        ManifestFormat::Yaml => manifest.to_yaml(),
        ManifestFormat::Json => manifest.to_json(),
    };
    let https = (public_url.scheme() != "https").then(|| {
        format!(
            "Slack only calls https URLs, and Herald's public URL is {public_url}. Set HERALD_PUBLIC_URL to the https \
             address Slack can reach (through your proxy or tunnel) before creating the app."
        )
    });
    // Every change to what was asked for is said, not made silently.
    let notes: Vec<String> = app_name_note(app_name).into_iter().chain(https).collect();
    let warning = (!notes.is_empty()).then(|| notes.join(" "));
    ManifestText { format, text, bot_display_name: manifest.features.bot_user.display_name, warning }
}
