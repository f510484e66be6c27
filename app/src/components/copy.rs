//! A Copy button: the Clipboard API, with a visible confirmation; where the
//! browser refuses, the text is selected for a manual copy and the button
//! says so.

use crate::components::handler;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;

/// `select`: the id of the element holding the text (a textarea or input),
/// selected when the clipboard cannot be written.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    #[prop(optional, into)] select: Option<String>,
    #[prop(optional, into)] label: Option<String>,
) -> impl IntoView {
    let state = RwSignal::new(None::<&'static str>);
    let label = label.unwrap_or_else(|| "Copy".to_owned());
    // "Copied" is about the text as it was: it goes when the text changes.
    Effect::new(move |_| {
        text.track();
        state.set(None);
    });
    let copy = move |_| {
        let text = text.get_untracked();
        let select = select.clone();
        spawn_local(async move {
            // The Clipboard API exists only on https and localhost pages.
            let clipboard = web_sys::window().filter(|w| w.is_secure_context()).map(|w| w.navigator().clipboard());
            let copied = match clipboard {
                Some(clipboard) => JsFuture::from(clipboard.write_text(&text)).await.is_ok(),
                None => false,
            };
            if copied {
                state.set(Some("Copied"));
            } else {
                let selected = select.as_deref().is_some_and(select_text);
                state.set(Some(if selected {
                    "The browser did not allow copying: the text is selected, press Ctrl+C (⌘C on a Mac)."
                } else {
                    "The browser did not allow copying: select the text and copy it by hand."
                }));
            }
        });
    };
    view! {
        <button type="button" class="button" on:click=handler(copy)>{label}</button>
        {move || state.get().map(|s| view! { <span class="copied" role="status">{s}</span> })}
    }
}

/// Selects the whole text of a textarea or input; whether it could.
fn select_text(id: &str) -> bool {
    let Some(element) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) else {
        return false;
    };
    if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        let _ = area.focus();
        area.select();
        return true;
    }
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        let _ = input.focus();
        input.select();
        return true;
    }
    false
}
