//! Step 3: what to check in the app's settings on Slack's side.

use leptos::prelude::*;

use super::StepNav;

#[component]
pub(super) fn ConfigureApp() -> impl IntoView {
    view! {
        <h2>"3. Configure the app"</h2>
        <div class="icon-download">
            <img src="/herald-icon.png" alt="Herald's app icon" width="96" height="96" />
            <div>
                <p>"Give the app Herald's icon: download it, then in "<strong>"Basic Information"</strong>" → "
                    <strong>"Display Information"</strong>", upload it as the app icon."</p>
                <a class="button" href="/herald-icon.png" download="herald-icon.png">"Download the icon (PNG, 512 × 512)"</a>
            </div>
        </div>
        <p>"Then keep this page at hand: the next step asks for the app's "<strong>"Client ID"</strong>", "
            <strong>"Client Secret"</strong>" and "<strong>"Signing Secret"</strong>", found under "<strong>"Basic Information"</strong>
            " → "<strong>"App Credentials"</strong>" (click Show for the secrets)."</p>
        <StepNav back=2 next=4 />
    }
}
