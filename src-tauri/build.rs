//! Build script of the desktop app: reads the top-level tauri.conf.json and the capabilities
//! kept in src-tauri/capabilities (the package manifest is at the top of the repository).

fn main() {
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
