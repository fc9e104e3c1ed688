//! `wecom-journal schema`: prints the output tables' schemas (Markdown or JSON) on stdout. The
//! Markdown is what `docs/schema.md` holds; the description itself lives in
//! `flatten::schema`. With `--job-file`, the job-file keys' reference instead: what
//! `docs/job-file.md` holds, from `job::keys`.

use crate::flatten::schema;
use crate::job::keys;

pub(crate) fn schema(format: super::SchemaFormat, job_file: bool) -> u8 {
    let text = match format {
        _ if job_file => keys::to_markdown(),
        super::SchemaFormat::Md => schema::to_markdown(),
        super::SchemaFormat::Json => schema::to_json(),
    };
    // A closed pipe (`| head`) ends the output, not the command.
    super::out::print(&text);
    super::exit::OK
}
