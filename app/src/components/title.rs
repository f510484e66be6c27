//! The browser tab's title: the page's name first, so a row of tabs (and
//! a screen reader arriving on a page) tells the pages apart.

/// Sets the document title to "`page` — Herald".
pub fn set_title(page: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{page} — Herald"));
    }
}
