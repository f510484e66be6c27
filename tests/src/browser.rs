//! A real headless Chromium, driven through ChromeDriver with fantoccini.
//! Each `Browser` has its own ChromeDriver on a free loopback port and its
//! own empty profile, both removed when it is dropped.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;

use crate::poll;

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    pub async fn start() -> Browser {
        Self::start_with_args(Vec::new()).await
    }

    /// A browser for which `host` is this machine (127.0.0.1), as an
    /// internal name is on the network it serves.
    pub async fn start_resolving(host: &str) -> Browser {
        Self::start_with_args(vec![format!("--host-resolver-rules=MAP {host} 127.0.0.1")]).await
    }

    async fn start_with_args(extra: Vec<String>) -> Browser {
        let chromedriver = tool("HERALD_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = tool("HERALD_TEST_CHROMIUM", "/usr/bin/chromium");
        assert!(
            chromedriver.is_file() && chromium.is_file(),
            "browser tests need {} and {}: run them with `cargo xtask test`, which installs both, \
             or set HERALD_TEST_CHROMEDRIVER and HERALD_TEST_CHROMIUM",
            chromedriver.display(),
            chromium.display()
        );
        let port = free_port();
        let mut driver = Command::new(&chromedriver)
            // Its own process group, so Drop can stop Chromium with it even
            // when a failed test never closes the session.
            .process_group(0)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1280,900",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend(extra);
        let capabilities = json!({
            // The console, for tests that a page logs no error.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
            }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let webdriver = format!("http://127.0.0.1:{port}");
        let client = poll::until("ChromeDriver to start a headless Chromium", || {
            let capabilities = capabilities.clone();
            let webdriver = webdriver.clone();
            let exited = driver.try_wait().ok().flatten();
            async move {
                if let Some(status) = exited {
                    panic!("chromedriver exited at start-up ({status})");
                }
                ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&webdriver).await
            }
        })
        .await;
        Browser { client, driver, _profile: profile }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The first element matching `css` whose text contains `text`, once it exists.
    pub async fn find_text(&self, css: &str, text: &str) -> Element {
        poll::until(&format!("an element `{css}` with text {text:?}"), || async {
            let mut seen = Vec::new();
            for element in self.client.find_all(Locator::Css(css)).await.map_err(|e| e.to_string())? {
                let content = element.text().await.map_err(|e| e.to_string())?;
                if content.contains(text) {
                    return Ok(element);
                }
                seen.push(content);
            }
            Err(format!("texts seen: {seen:?}"))
        })
        .await
    }

    /// Clicks the element matching `css` with `text`, once it is there.
    pub async fn click_text(&self, css: &str, text: &str) {
        let element = self.find_text(css, text).await;
        element.click().await.unwrap_or_else(|e| panic!("clicking {css} {text:?}: {e}"));
    }

    /// Types `text` into the field matching `css` (replacing what is there).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = poll::until(&format!("a field `{css}`"), || async { self.client.find(Locator::Css(css)).await }).await;
        field.clear().await.unwrap_or_else(|e| panic!("clearing {css}: {e}"));
        field.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let select = poll::until(&format!("a select `{css}`"), || async { self.client.find(Locator::Css(css)).await }).await;
        select.select_by_value(value).await.unwrap_or_else(|e| panic!("choosing {value:?} in {css}: {e}"));
    }

    /// The current value of the field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        let field = poll::until(&format!("a field `{css}`"), || async { self.client.find(Locator::Css(css)).await }).await;
        field.prop("value").await.unwrap_or_else(|e| panic!("reading {css}: {e}")).unwrap_or_default()
    }

    /// Waits until the field matching `css` holds exactly `expected`.
    pub async fn wait_for_value(&self, css: &str, expected: &str) {
        poll::until(&format!("`{css}` to hold {expected:?}"), || async {
            let field = self.client.find(Locator::Css(css)).await.map_err(|e| e.to_string())?;
            let value = field.prop("value").await.map_err(|e| e.to_string())?.unwrap_or_default();
            if value == expected { Ok(()) } else { Err(value) }
        })
        .await
    }

    /// Reloads the page, as F5 does.
    pub async fn reload(&self) {
        self.client.refresh().await.expect("reloading the page");
    }

    /// Signs in through the sign-in page, as a person would.
    pub async fn sign_in(&self, herald: &crate::Herald, email: &str, password: &str) {
        self.goto(&herald.url("/sign-in")).await;
        self.fill("input[name=email]", email).await;
        self.fill("input[name=password]", password).await;
        self.click_text("button[type=submit]", "Sign in").await;
    }

    /// Waits until the address bar shows `path`.
    pub async fn wait_for_path(&self, path: &str) {
        poll::until(&format!("the page to be at {path}"), || async {
            let url = self.client.current_url().await.map_err(|e| e.to_string())?;
            if url.path() == path { Ok(()) } else { Err(url.to_string()) }
        })
        .await
    }

    /// Waits until nothing on the page matches `css`.
    pub async fn wait_for_absence(&self, css: &str) {
        poll::until(&format!("`{css}` to go"), || async {
            match self.client.find(Locator::Css(css)).await {
                Ok(_) => Err("still there"),
                Err(_) => Ok(()),
            }
        })
        .await
    }

    /// Makes the page as wide and tall as a phone's screen. Headless
    /// Chromium will not size its window below about 500 px, so this goes
    /// through the DevTools protocol, as the device toolbar does.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false});
        self.cdp("Emulation.setDeviceMetricsOverride", params).await;
    }

    async fn cdp(&self, cmd: &str, params: serde_json::Value) -> serde_json::Value {
        let command = SessionPost { path: "goog/cdp/execute", body: json!({"cmd": cmd, "params": params}) };
        self.client.issue_cmd(command).await.unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }

    /// What the page wrote to the console at error level since the last
    /// call, leaving out failed requests (a 401 before sign-in is logged
    /// by Chromium itself, and is the app working as meant).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(SessionPost { path: "se/log", body: json!({"type": "browser"}) })
            .await
            .expect("reading the browser's console");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE")
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .filter(|m| !m.contains("Failed to load resource"))
            .collect()
    }

    /// Asserts that the page is no wider than the window, naming the
    /// widest elements when it is.
    pub async fn assert_no_sideways_scroll(&self, page: &str) {
        let measured = self
            .client
            .execute(
                "const w = window.innerWidth;
                 const wide = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > w + 0.5)
                   .slice(0, 5)
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right));
                 return [document.documentElement.scrollWidth, w, wide];",
                vec![],
            )
            .await
            .expect("measuring the page");
        let (scroll, inner) = (measured[0].as_f64().unwrap_or(0.0), measured[1].as_f64().unwrap_or(0.0));
        assert!(scroll <= inner, "{page}: the page is {scroll} px wide in a {inner} px window; too wide: {}", measured[2]);
    }

    /// The page's title, as the browser tab shows it.
    pub async fn title(&self) -> String {
        self.client.title().await.expect("reading the title")
    }

    /// Waits until the tab's title is `expected`.
    pub async fn wait_for_title(&self, expected: &str) {
        poll::until(&format!("the title to be {expected:?}"), || async {
            let title = self.title().await;
            if title == expected { Ok(()) } else { Err(title) }
        })
        .await
    }

    /// Saves a PNG of the page to `$HERALD_TEST_SCREENSHOTS/<name>.png`
    /// when that variable is set, for looking at screens by eye.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("HERALD_TEST_SCREENSHOTS") else { return };
        let png = self.client.screenshot().await.expect("taking a screenshot");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).expect("writing the screenshot");
    }

    /// Closes the session; dropping the `Browser` stops ChromeDriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A ChromeDriver command fantoccini has no method for: a POST under the
/// session's URL.
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for SessionPost {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/{}", session_id.unwrap_or_default(), self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: ChromeDriver and every Chromium process it started.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
