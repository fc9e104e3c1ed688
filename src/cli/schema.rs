//! `wecom-journal schema`: prints the output tables' schemas (Markdown or JSON) on stdout. The
//! Markdown is what `docs/schema.md` holds; the description itself lives in
//! `flatten::schema`. With `--job-file`, the job-file keys' reference instead: what
//! `docs/job-file.md` holds, from `job::keys`.

use std::io::Write;

use crate::flatten::schema;
use crate::job::keys;

pub fn schema(format: super::SchemaFormat, job_file: bool) -> u8 {
    let text = match format {
        _ if job_file => keys::to_markdown(),
        super::SchemaFormat::Md => schema::to_markdown(),
        super::SchemaFormat::Json => schema::to_json(),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => super::exit::OK,
        // A closed pipe (`| head`) is not worth a panic; say what happened and fail.
        Err(e) => {
            super::report::error(&anyhow::Error::from(e).context("writing the schema to stdout"));
            super::exit::FAILED
        }
    }
}
