//! Step 3: what to check in the app's settings on Slack's side.

use leptos::prelude::*;

use super::{StepNav, Wizard};

#[component]
pub(super) fn ConfigureApp() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
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
        <Show when=move || wizard.socket_mode()>
            <div class="notice socket-mode">
                <h3>"Create the app-level token (Socket Mode)"</h3>
                <ol class="instructions">
                    <li>"In "<strong>"Basic Information"</strong>", scroll to "<strong>"App-Level Tokens"</strong>" and click "
                        <strong>"Generate Token and Scopes"</strong>"."</li>
                    <li>"Name it, e.g. herald, click "<strong>"Add Scope"</strong>" and pick "<code>"connections:write"</code>
                        ", then "<strong>"Generate"</strong>"."</li>
                    <li>"Copy the token (it starts with xapp-): the next step asks for it instead of the Signing Secret."</li>
                </ol>
                <p class="hint">"With it Herald opens the connection to Slack itself: clicks and Slack's events come over it, and nothing from the internet needs to reach Herald."</p>
            </div>
        </Show>
        <p>"Then keep this page at hand: the next step asks for the app's "<strong>"Client ID"</strong>" and "
            <strong>"Client Secret"</strong>", found under "<strong>"Basic Information"</strong>" → "<strong>"App Credentials"</strong>
            " (click Show for the secret), and for its "
            {move || if wizard.socket_mode() { "app-level token." } else { "Signing Secret, found there too." }}</p>
        <StepNav back=2 next=4 />
    }
}
