//! The task templates in `templatePath`, read the way tasker-worker reads
//! them (every .yaml/.yml file, recursively, into tasker-shared's
//! `TaskTemplate`), but before the worker boots and without skipping a file
//! that does not parse: a broken template is an error naming the file and
//! the YAML problem (line, column), and a namespace no template defines is
//! found in milliseconds rather than after a full boot.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use tasker_shared::models::core::task_template::TaskTemplate;

use crate::js::arg;
use crate::error::{guard, BridgeError, BridgeResult, ErrorCode};

/// A task template as `loadTaskTemplates` reports it.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateInfo {
    /// The YAML file it came from.
    pub file: String,
    pub namespace: String,
    pub name: String,
    pub version: String,
    pub steps: Vec<TemplateStepInfo>,
}

/// A step of a template and the handler it names.
#[napi(object)]
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStepInfo {
    pub name: String,
    /// `handler.callable`: the key a handler is registered under.
    pub callable: String,
    /// `handler.method`, if the template names one.
    pub method: Option<String>,
    /// `handler.resolver`, if the template names one.
    pub resolver: Option<String>,
    /// Publishers its domain events name (`publishes_events[].publisher`).
    pub publishers: Vec<String>,
    /// The step's type: standard, decision, batchable, batch_worker, deferred_convergence.
    pub step_type: String,
    /// A batchable step's `handler.initialization.worker_template_name`: the
    /// worker template tasker runs one placeholder of after `noBatches()`.
    pub worker_template_name: Option<String>,
}

fn yaml_files(dir: &Path) -> BridgeResult<Vec<PathBuf>> {
    let unreadable = |path: &Path, e: std::io::Error| {
        BridgeError::invalid("templatePath", format!("cannot read {}: {e}", path.display()))
    };
    let mut files = Vec::new();
    let mut folders = VecDeque::from([dir.to_path_buf()]);
    while let Some(folder) = folders.pop_front() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| unreadable(&folder, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                folders.push_back(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Every template under `dir`; the first file that does not parse is an error.
pub fn load(dir: &str) -> BridgeResult<Vec<TemplateInfo>> {
    let root = Path::new(dir);
    if !root.is_dir() {
        return Err(BridgeError::invalid("templatePath", format!("'{dir}' is not a folder; point it at the folder of your task template YAML files")));
    }
    let mut templates = Vec::new();
    for file in yaml_files(root)? {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| BridgeError::invalid("templatePath", format!("cannot read {}: {e}", file.display())))?;
        let template: TaskTemplate = serde_yaml::from_str(&text).map_err(|e| {
            BridgeError::invalid("templatePath", format!("{} is not a valid task template: {e}", file.display()))
        })?;
        templates.push(TemplateInfo {
            file: file.display().to_string(),
            namespace: template.namespace_name,
            name: template.name,
            version: template.version,
            steps: template
                .steps
                .into_iter()
                .map(|s| TemplateStepInfo {
                    publishers: s.publishes_events.iter().filter_map(|e| e.publisher.clone()).collect(),
                    step_type: crate::conversions::event::serde_name(&s.step_type),
                    worker_template_name: s.handler.initialization.get("worker_template_name").and_then(|v| v.as_str()).map(str::to_string),
                    name: s.name,
                    callable: s.handler.callable,
                    method: s.handler.method,
                    resolver: s.handler.resolver,
                })
                .collect(),
        });
    }
    if templates.is_empty() {
        return Err(BridgeError::invalid("templatePath", format!("'{dir}' holds no task template (.yaml or .yml files)")));
    }
    Ok(templates)
}

/// Every namespace the templates define, sorted.
pub fn namespaces(templates: &[TemplateInfo]) -> Vec<String> {
    let mut names: Vec<String> = templates.iter().map(|t| t.namespace.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// Every publisher name the templates' domain events use.
pub fn publishers(templates: &[TemplateInfo]) -> Vec<String> {
    let mut names: Vec<String> = templates.iter().flat_map(|t| t.steps.iter().flat_map(|s| s.publishers.iter().cloned())).collect();
    names.sort();
    names.dedup();
    names
}

/// Fails unless every wanted namespace has a template.
pub fn check_namespaces(templates: &[TemplateInfo], wanted: &[String]) -> BridgeResult<()> {
    let mut defined: Vec<&str> = templates.iter().map(|t| t.namespace.as_str()).collect();
    defined.sort();
    defined.dedup();
    let missing: Vec<&String> = wanted.iter().filter(|ns| !defined.contains(&ns.as_str())).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(BridgeError::invalid(
        "namespace",
        format!("{missing:?} has no task template in templatePath (its templates define {defined:?}); add a template with that namespace_name or fix the name"),
    ))
}

/// Reads and checks the task templates of a folder, as `bootstrapWorker` does
/// before it starts: for start-up checks (every callable has a handler).
#[napi(ts_args_type = "templatePath: string")]
pub fn load_task_templates(template_path: Unknown<'_>) -> napi::Result<Vec<TemplateInfo>, ErrorCode> {
    guard(|| load(&arg::<String>(template_path, "templatePath")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tw-templates-{}", uuid::Uuid::new_v4()));
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const GOOD: &str = "name: t\nnamespace_name: shop\nversion: 1.0.0\nsteps:\n  - name: a\n    handler:\n      callable: shop.a\n      method: run\n";

    #[test]
    fn reads_templates_recursively_with_their_callables() {
        let dir = folder(&[("one.yaml", GOOD), ("nested/two.yml", &GOOD.replace("shop", "ops")), ("notes.txt", "x")]);
        let templates = load(dir.to_str().unwrap()).unwrap();
        assert_eq!(templates.len(), 2);
        assert_eq!(templates[0].namespace, "shop");
        assert_eq!(templates[0].steps[0].callable, "shop.a");
        assert_eq!(templates[0].steps[0].method.as_deref(), Some("run"));
        assert_eq!(templates[0].steps[0].step_type, "standard");
        assert_eq!(templates[0].steps[0].worker_template_name, None);
        assert_eq!(templates[1].namespace, "ops");
        check_namespaces(&templates, &["shop".into(), "ops".into()]).unwrap();
        let err = check_namespaces(&templates, &["billing".into()]).unwrap_err();
        assert!(err.message.starts_with("namespace: [\"billing\"]") && err.message.contains("\"ops\", \"shop\""), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_batchable_step_reports_its_type_and_worker_template() {
        let batch = "name: b\nnamespace_name: shop\nversion: 1.0.0\nsteps:\n  - name: split\n    type: batchable\n    handler:\n      callable: shop.split\n      initialization:\n        worker_template_name: work\n  - name: work\n    type: batch_worker\n    dependencies: [split]\n    handler:\n      callable: shop.work\n";
        let dir = folder(&[("b.yaml", batch)]);
        let steps = &load(dir.to_str().unwrap()).unwrap()[0].steps;
        assert_eq!((steps[0].step_type.as_str(), steps[0].worker_template_name.as_deref()), ("batchable", Some("work")));
        assert_eq!((steps[1].step_type.as_str(), steps[1].worker_template_name.as_deref()), ("batch_worker", None));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_broken_file_is_named_with_the_line() {
        let dir = folder(&[("good.yaml", GOOD), ("bad.yaml", "name: t\nsteps: [\n  - {\n")]);
        let err = load(dir.to_str().unwrap()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("bad.yaml") && err.message.contains("line"), "{}", err.message);
        std::fs::remove_dir_all(dir).unwrap();
        assert!(load("/no/such/folder").unwrap_err().message.starts_with("templatePath"));
    }
}
