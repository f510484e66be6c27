//! Builds the web app into `dist/`: wasm32 release build, JS glue from the
//! wasm-bindgen library (the same version as the app's, pinned in the
//! workspace), content-hashed names, precompressed copies, and a size table.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use herald_model::assets::hashed_name;
use sha2::{Digest as _, Sha256};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";
const DIST: &str = "dist";
/// What a first visit to the console may download, brotli, in kB.
const CONSOLE_GOAL_KB: u64 = 200;
/// Files worth compressing; images in `public/` are compressed already.
const COMPRESSIBLE: &[&str] = &["html", "js", "wasm", "css", "svg", "json", "txt", "map"];

/// The app's own build of the standard library, sized like the app and
/// with panics that stop at once instead of formatting a message nobody
/// reads in production: 13 KiB less brotli, the size goal's margin. It
/// uses two unstable options of the pinned stable compiler (build-std and
/// immediate-abort, enabled with `RUSTC_BOOTSTRAP` for this build only).
/// `HERALD_APP_STD=prebuilt` builds with the prebuilt standard library,
/// whose panics print their message and place in the browser's console:
/// for finding a panic, not for shipping.
/// (Added to the flags in `.cargo/config.toml`: cargo joins the lists.)
const OWN_STD_RUSTFLAGS: [&str; 2] = ["-Zunstable-options", "-Cpanic=immediate-abort"];

fn own_std() -> bool {
    match std::env::var("HERALD_APP_STD").as_deref() {
        Ok("prebuilt") => {
            println!("HERALD_APP_STD=prebuilt: the app is built with the prebuilt standard library (panic messages, a larger file).");
            false
        }
        _ if super::setup::rust_src() => true,
        _ => {
            println!(
                "The standard library's source is not installed and rustup could not add it \
                 (`rustup component add rust-src`): the app is built with the prebuilt one, larger than the size goal allows."
            );
            false
        }
    }
}

/// Builds everything into a fresh `dist.new/`, then swaps it in, so a
/// running Herald never serves a half-written folder. Returns the absolute
/// path of `dist/`.
pub fn build_app() -> anyhow::Result<PathBuf> {
    // Every command that builds the app comes through here, so this is the
    // one place that makes sure rustup has the target.
    super::setup::wasm_target()?;
    let build = ["build", "--package", "herald-app", "--lib", "--target", WASM_TARGET, "--profile", PROFILE];
    if own_std() {
        let flags = format!("target.{WASM_TARGET}.rustflags={OWN_STD_RUSTFLAGS:?}");
        let args = [&build[..], &["--config", &flags, "-Zbuild-std=std,panic_abort"]].concat();
        super::cargo_with(&args, &[("RUSTC_BOOTSTRAP", "1")])?;
    } else {
        super::cargo(&build)?;
    }
    let target_dir = PathBuf::from(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()));
    let wasm_in = target_dir.join(WASM_TARGET).join(PROFILE).join("herald_app.wasm");

    let staging = PathBuf::from("dist.new");
    remove_dir_if_present(&staging)?;
    let bindgen_out = target_dir.join("bindgen");
    remove_dir_if_present(&bindgen_out)?;

    let wasm = without_unused_exports(&wasm_in)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_bytes("herald_app", wasm)
        .web(true)?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        // boot.js passes the hashed .wasm URL to init(), so the glue needs
        // no default path of its own.
        .omit_default_module_path(true)
        .generate(&bindgen_out)
        .context("generating the JS glue with wasm-bindgen")?;

    fs::create_dir_all(&staging)?;
    let glue = fs::read_to_string(bindgen_out.join("herald_app.js")).context("reading the JS glue")?;
    let js = publish_bytes(without_comment_lines(&glue).as_bytes(), "app", "js", &staging)?;
    let wasm = publish(&bindgen_out.join("herald_app_bg.wasm"), "app", "wasm", &staging)?;
    let snippets = bindgen_out.join("snippets");
    if snippets.is_dir() {
        copy_dir(&snippets, &staging.join("snippets"))?;
    }
    let css = publish_bytes(&stylesheet()?, "app", "css", &staging)?;
    let boot = publish_bytes(
        format!("import init from \"./{js}\";\ninit({{ module_or_path: new URL(\"./{wasm}\", import.meta.url) }});\n").as_bytes(),
        "boot",
        "js",
        &staging,
    )?;
    let template = fs::read_to_string("app/index.html").context("reading app/index.html")?;
    let index = template.replace("{{css}}", &css).replace("{{boot}}", &boot).replace("{{js}}", &js).replace("{{wasm}}", &wasm);
    if index.contains("{{") {
        bail!("app/index.html has a placeholder xtask does not fill");
    }
    fs::write(staging.join("index.html"), index)?;
    copy_dir(Path::new("public"), &staging)?;
    compress_all(&staging)?;

    remove_dir_if_present(Path::new(DIST))?;
    fs::rename(&staging, DIST).context("moving dist.new to dist")?;
    print_sizes(Path::new(DIST), &[&wasm, &js, &css, &boot])?;
    Ok(std::env::current_dir()?.join(DIST))
}

/// Classes that dependencies export to JavaScript and the app never
/// hands out: wasm-streams' adapters, which leptos' server functions
/// (always on in leptos) link in. An export keeps its code alive, so they
/// are taken out before wasm-bindgen runs, with the descriptions
/// wasm-bindgen would make JS classes from.
const UNUSED_EXPORTED_CLASSES: &[&str] = &["IntoUnderlyingByteSource", "IntoUnderlyingSink", "IntoUnderlyingSource"];

fn without_unused_exports(wasm: &Path) -> anyhow::Result<Vec<u8>> {
    let mut module = walrus::Module::from_file(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let prefixes: Vec<String> = UNUSED_EXPORTED_CLASSES.iter().map(|c| c.to_ascii_lowercase()).collect();
    let exported_by_class = |name: &str| {
        let name = name.strip_prefix("__wbg_").unwrap_or(name);
        prefixes.iter().any(|p| name.strip_prefix(p.as_str()).is_some_and(|rest| rest.starts_with('_')))
    };
    let exports: Vec<_> = module.exports.iter().filter(|e| exported_by_class(&e.name)).map(|e| e.id()).collect();
    if exports.is_empty() {
        bail!("the app no longer exports {UNUSED_EXPORTED_CLASSES:?}: take them out of xtask's UNUSED_EXPORTED_CLASSES");
    }
    for id in exports {
        module.exports.delete(id);
    }
    // wasm-bindgen's section is a run of length-prefixed blobs (u32
    // little-endian, then the bytes), in pairs: a schema version, then one
    // program, which describes one exported or imported item. A class's
    // own items name the class.
    let mut sections = Vec::new();
    while let Some(section) = module.customs.remove_raw("__wasm_bindgen_unstable") {
        sections.push(section);
    }
    for mut section in sections {
        let mut kept = Vec::with_capacity(section.data.len());
        let mut rest = &section.data[..];
        while !rest.is_empty() {
            let (Some(schema), Some(program)) = (blob(&mut rest), blob(&mut rest)) else {
                bail!("wasm-bindgen's custom section is not a run of (schema, program) pairs: has its format changed?");
            };
            let names_class = UNUSED_EXPORTED_CLASSES.iter().any(|c| program.windows(c.len()).any(|w| w == c.as_bytes()));
            if !names_class {
                kept.extend_from_slice(schema);
                kept.extend_from_slice(program);
            }
        }
        section.data = kept;
        module.customs.add(section);
    }
    Ok(module.emit_wasm())
}

/// The next length-prefixed blob of `rest`, with its prefix.
fn blob<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = rest.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)?;
    let blob = rest.get(..4 + len)?;
    *rest = &rest[blob.len()..];
    Some(blob)
}

/// Copies `file` into `dir` under a content-hashed name; returns the name.
fn publish(file: &Path, stem: &str, extension: &str, dir: &Path) -> anyhow::Result<String> {
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    publish_bytes(&bytes, stem, extension, dir)
}

fn publish_bytes(bytes: &[u8], stem: &str, extension: &str, dir: &Path) -> anyhow::Result<String> {
    let name = hashed_name(stem, &hex::encode(Sha256::digest(bytes)), extension);
    fs::write(dir.join(&name), bytes)?;
    Ok(name)
}

/// The generated glue without its whole-line comments (JSDoc blocks and
/// `//` lines), which no browser reads: about 0.5 KiB of the brotli copy.
/// Code lines are kept as they are.
fn without_comment_lines(js: &str) -> String {
    let mut out = String::with_capacity(js.len());
    let mut in_block = false;
    for line in js.lines() {
        let code = line.trim();
        if in_block || code.starts_with("/*") {
            in_block = !code.ends_with("*/");
        } else if !code.starts_with("//") && !code.is_empty() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A stylesheet without its comments.
fn without_css_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Every stylesheet in `style/`, in name order, as one file.
fn stylesheet() -> anyhow::Result<Vec<u8>> {
    let mut files: Vec<PathBuf> =
        fs::read_dir("style").context("reading style/")?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "css"));
    files.sort();
    let mut css = String::new();
    for file in files {
        let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        css.push_str(&without_css_comments(&text));
        css.push('\n');
    }
    Ok(css.into_bytes())
}

fn compress_all(dir: &Path) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            compress_all(&path)?;
            continue;
        }
        let compressible = path.extension().and_then(|e| e.to_str()).is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible {
            continue;
        }
        let raw = fs::read(&path)?;
        fs::write(with_suffix(&path, "gz"), gzip(&raw)?)?;
        fs::write(with_suffix(&path, "br"), brotli(&raw)?)?;
    }
    Ok(())
}

fn gzip(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw)?;
    Ok(encoder.finish()?)
}

fn brotli(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        // Quality 11, 4 MiB window: the smallest output; it runs once per build.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(raw)?;
    }
    Ok(out)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// The size table, with the whole console (every file a first visit
/// loads) as its last row: the figure the size budget is about.
fn print_sizes(dist: &Path, names: &[&str]) -> anyhow::Result<()> {
    println!("\nWeb app in {}/:", dist.display());
    println!("| file | raw | gzip | brotli |");
    println!("|---|---:|---:|---:|");
    let mut total = [0u64; 3];
    for name in ["index.html"].iter().chain(names) {
        let mut row = [0u64; 3];
        for (i, suffix) in ["", "gz", "br"].into_iter().enumerate() {
            let path = if suffix.is_empty() { dist.join(name) } else { with_suffix(&dist.join(name), suffix) };
            row[i] = fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?.len();
            total[i] += row[i];
        }
        println!("| {name} | {} | {} | {} |", kib(row[0]), kib(row[1]), kib(row[2]));
    }
    println!("| **whole console** | {} | {} | **{}** |", kib(total[0]), kib(total[1]), kib(total[2]));
    // The size goal (issue 11) is set in kB of 1,000 bytes.
    println!(
        "\nA first visit downloads {:.1} kB brotli ({} bytes); the goal is at most {} kB.",
        total[2] as f64 / 1000.0,
        total[2],
        CONSOLE_GOAL_KB
    );
    println!();
    Ok(())
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn remove_dir_if_present(dir: &Path) -> anyhow::Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_copies_decompress_to_the_original() {
        let raw = b"(module) (module) (module) hello hello hello".repeat(20);
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip(&raw).unwrap()[..]), &mut back).unwrap();
        assert_eq!(back, raw);
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&brotli(&raw).unwrap()[..], 4096), &mut back).unwrap();
        assert_eq!(back, raw);
    }

    #[test]
    fn comments_go_and_code_stays() {
        let js = "/**\n * @param {number} a\n */\nexport function f(a) {\n    // why\n    return `/* ${a} */`;\n}\n";
        assert_eq!(without_comment_lines(js), "export function f(a) {\n    return `/* ${a} */`;\n}\n");
        assert_eq!(without_css_comments("/* a */a { b: c; } /* d\n e */f{}"), "a { b: c; } f{}");
    }

    #[test]
    fn published_names_are_hashed_by_content() {
        let dir = tempfile_dir();
        let a = publish_bytes(b"one", "app", "js", &dir).unwrap();
        let b = publish_bytes(b"two", "app", "js", &dir).unwrap();
        assert_ne!(a, b);
        assert!(herald_model::assets::is_hashed_name(&a), "{a}");
        assert_eq!(fs::read(dir.join(&a)).unwrap(), b"one");
        fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
