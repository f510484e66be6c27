//! Step 6: invite the bot to the channel; Herald checks until it is in.

use herald_model::destination::{ChannelCheck, ChannelState};
use herald_model::manifest::{DEFAULT_APP_NAME, bot_display_name};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{StepNav, Wizard};
use crate::api;
use crate::components::copy::CopyButton;
use crate::router;

#[component]
pub(super) fn InviteBot() -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let command = format!("/invite @{}", bot_display_name(DEFAULT_APP_NAME));
    let channel = move || {
        let channel = wizard.destination.with(|d| d.settings.channel.clone());
        if channel.is_empty() { "the channel".to_owned() } else { channel }
    };
    let check = RwSignal::new(None::<Result<ChannelCheck, String>>);
    // Slack not finding the channel means a private channel the bot is not
    // in yet, or a name that is wrong: the page says both, not "invite"
    // and "cannot find" side by side.
    let not_found = move || matches!(check.get(), Some(Ok(ChannelCheck { state: ChannelState::Problem, channel_id: None, .. })));
    let back_to_form = move || wizard.destination.with(|d| format!("/destinations/{}/setup/5", router::segment(&d.id)));
    view! {
        <h2>"6. Invite the bot to the channel"</h2>
        <Show
            when=not_found
            fallback=move || view! { <p>"In Slack, open "<strong>{channel}</strong>" and send:"</p> }
        >
            <p>"If "<strong>{channel}</strong>" is a private channel, open it in Slack and send the command below. If the name is wrong, "
                <a href=back_to_form>"correct the channel in step 5"</a>"."</p>
        </Show>
        <div class="command">
            <input id="invite-command" class="code" type="text" readonly prop:value=command.clone() aria-label="Invite command" />
            <CopyButton text=Signal::stored(command.clone()) select="invite-command" />
        </div>
        <ChannelStatus check />
        <p class="hint">"Private channels must invite the bot before Herald can see them."</p>
        <StepNav back=5 next=7 />
    }
}

/// How often step 6 asks Slack whether the bot has joined.
const CHANNEL_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The live answer to "is the bot in the channel yet?", asked again every
/// few seconds until it is.
#[component]
fn ChannelStatus(check: RwSignal<Option<Result<ChannelCheck, String>>>) -> impl IntoView {
    let wizard = expect_context::<Wizard>();
    let asking = RwSignal::new(false);
    let ask = move || {
        let ready = matches!(check.get_untracked(), Some(Ok(ChannelCheck { state: ChannelState::Ready, .. })));
        // One question at a time: a slow Slack must not pile them up.
        if ready || asking.get_untracked() {
            return;
        }
        asking.set(true);
        let id = wizard.destination.with_untracked(|d| d.id.clone());
        spawn_local(async move {
            let answer = api::channel_check(&id).await.map_err(|e| e.message);
            check.set(Some(answer));
            asking.set(false);
        });
    };
    ask();
    if let Ok(handle) = set_interval_with_handle(ask, CHANNEL_POLL) {
        on_cleanup(move || handle.clear());
    }
    move || match check.get() {
        None => view! { <p class="channel-status" role="status">"Checking the channel in Slack…"</p> }.into_any(),
        Some(Ok(c)) => {
            let class = match c.state {
                ChannelState::Ready => "channel-status ready",
                ChannelState::Waiting => "channel-status waiting",
                ChannelState::Problem => "channel-status problem",
            };
            view! { <p class=class role="status">{c.message}</p> }.into_any()
        }
        Some(Err(message)) => view! { <p class="channel-status problem" role="status">{message}</p> }.into_any(),
    }
}
