//! Stats consistent with details, every control shape, wedrive downloads.

use super::*;

#[tokio::test]
async fn stats_are_consistent_with_journal_details() {
    let cfg = SimConfig {
        users: 12,
        ..config()
    };
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (s, e) = (
        local_midnight(&cfg, cfg.start),
        local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1,
    );
    let (mut late, mut on_time, mut unreported, mut two_items) = (0, 0, 0, 0);
    let mut with_template = 0;
    for t in h.org.templates.iter().filter(|t| t.report_type != 0) {
        let v = post(
            &c,
            &h,
            STATS,
            &tok,
            json!({"template_id": t.id, "starttime": s, "endtime": e}),
        )
        .await;
        assert_eq!(v["errcode"], 0, "{v}");
        let cycles = items(&v["stat_list"]);
        assert!(!cycles.is_empty(), "{} has cycles", t.name);
        // Every journal of the template is in exactly one cycle's report_list (a late one may
        // fall into the next cycle's days, so this is checked by uuid, not by time).
        let mut listed: HashSet<String> = HashSet::new();
        for cy in cycles {
            assert_eq!(cy["template_id"], t.id.as_str());
            assert_eq!(uint(&cy["report_type"]), t.report_type);
            let stat_end = int(&cy["stat_end_time"]);
            let (begin, end) = (int(&cy["cycle_begin_time"]), int(&cy["cycle_end_time"]));
            assert!((s..=e).contains(&begin) && begin < stat_end && stat_end < end);
            let mut reported = HashSet::new();
            for r in items(&cy["report_list"]) {
                for item in items(&r["itemlist"]) {
                    let uuid = item["journaluuid"].as_str().unwrap().to_string();
                    assert!(listed.insert(uuid), "a journal in two cycles");
                }
                let user = r["user"]["userid"].as_str().unwrap();
                assert!(reported.insert(user.to_string()), "one entry per user");
                two_items += usize::from(items(&r["itemlist"]).len() > 1);
                for item in items(&r["itemlist"]) {
                    let d = post(
                        &c,
                        &h,
                        DETAIL,
                        &tok,
                        json!({"journaluuid": item["journaluuid"]}),
                    )
                    .await;
                    assert_eq!(d["errcode"], 0, "{d}");
                    let info = &d["info"];
                    assert_eq!(info["submitter"]["userid"], user);
                    // Most details leave their template out; those that carry it are right.
                    if let Some(id) = info.get("template_id") {
                        assert_eq!(id, t.id.as_str());
                        with_template += 1;
                    }
                    assert_eq!(int(&info["report_time"]), int(&item["reporttime"]));
                    let is_late = int(&item["reporttime"]) > stat_end;
                    assert_eq!(uint(&item["flag"]) == 1, is_late);
                    assert!(int(&item["reporttime"]) >= begin);
                    if is_late {
                        late += 1
                    } else {
                        on_time += 1
                    }
                }
            }
            for u in items(&cy["unreport_list"]) {
                let user = u["user"]["userid"].as_str().unwrap();
                assert!(!reported.contains(user));
                assert_eq!(u["itemlist"][0]["journaluuid"], "");
                unreported += 1;
            }
        }
        // …and a withdrawn journal in none.
        let of_template: HashSet<String> = world(&h, &cfg)
            .journals()
            .filter(|j| j.template_id() == t.id)
            .map(|j| j.uuid().to_string())
            .collect();
        assert_eq!(listed, of_template, "{}", t.name);
        assert!(
            with_template > 0,
            "some {} detail carries its template id",
            t.name
        );
        with_template = 0;
    }
    assert!(
        late > 0 && on_time > late && unreported > 0 && two_items > 0,
        "late {late} on time {on_time} unreported {unreported} two items {two_items}"
    );
    // Free-form 汇报 has no cycles.
    let free = &h.org.templates[3];
    let v = post(
        &c,
        &h,
        STATS,
        &tok,
        json!({"template_id": free.id, "starttime": s, "endtime": e}),
    )
    .await;
    assert_eq!(items(&v["stat_list"]).len(), 0);
}

fn walk_controls(
    contents: &Value,
    depth: usize,
    seen: &mut BTreeSet<String>,
    nested_table: &mut bool,
    langs: &mut (bool, bool),
) {
    for ctl in contents.as_array().unwrap() {
        let name = ctl["control"].as_str().unwrap().to_string();
        for t in ctl["title"].as_array().unwrap() {
            if t.get("lang").is_some() {
                langs.0 = true;
            } else {
                langs.1 = true;
            }
        }
        if name == "Text" {
            // WeCom sends the other shapes' keys as empty arrays.
            assert_eq!(ctl["value"]["members"], json!([]));
            assert_eq!(ctl["value"]["children"], json!([]));
        }
        if name == "Table" {
            if depth > 0 {
                *nested_table = true;
            }
            for row in ctl["value"]["children"].as_array().unwrap() {
                walk_controls(&row["list"], depth + 1, seen, nested_table, langs);
            }
        }
        seen.insert(name);
    }
}

#[tokio::test]
async fn details_carry_every_control_shape_u64_comments_and_partial_reads() {
    let cfg = config();
    let h = start(cfg.clone()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (s, e) = (
        local_midnight(&cfg, cfg.start),
        local_midnight(&cfg, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()) - 1,
    );
    let ids = list_all(&c, &h, &tok, s, e, 100, json!([])).await;
    let mut seen = BTreeSet::new();
    let (mut nested, mut langs) = (false, (false, false));
    let (mut big_comment, mut reply_ok, mut partial_read, mut rich_text) =
        (false, false, false, false);
    let mut without_template = false;
    // Every weekly journal, and a sample of the others.
    let weekly = h.org.template_named("周报").unwrap().id.clone();
    let at = world(&h, &cfg);
    let picked: Vec<&String> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| at.journal(id).is_some_and(|j| !j.is_withdrawn()))
        .filter(|(i, id)| {
            i % 5 == 0
                || h.org.journal(id).and_then(|j| j.template_id.clone()) == Some(weekly.clone())
        })
        .map(|(_, id)| id)
        .collect();
    for id in picked {
        let r = c
            .post(format!("{}{DETAIL}?access_token={tok}", h.base_url))
            .json(&json!({"journaluuid": id}))
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["errcode"], 0);
        let info = &v["info"];
        assert_eq!(info["journal_uuid"], id.as_str());
        // Whether the detail carries its template id is the world's to say.
        let life = at.journal(id).unwrap().life;
        assert_eq!(info.get("template_id").is_some(), life.serves_template_id);
        without_template |= !life.serves_template_id;
        walk_controls(
            &info["apply_data"]["contents"],
            0,
            &mut seen,
            &mut nested,
            &mut langs,
        );
        let mut earlier = HashSet::new();
        for cm in items(&info["comments"]) {
            // serde_json keeps u64 exactly: never through f64 (and some come as text).
            let cid = uint(&cm["commentid"]);
            big_comment |= cid > 1 << 53;
            let to = uint(&cm["tocommentid"]);
            if to != 0 {
                assert!(
                    earlier.contains(&to),
                    "a reply points at an earlier comment"
                );
                reply_ok = true;
            }
            earlier.insert(cid);
            // …and the id is written as an exact integer in the body.
            assert!(text.contains(&cid.to_string()));
        }
        let (n_recv, n_read) = (
            items(&info["receivers"]).len(),
            items(&info["readed_receivers"]).len(),
        );
        partial_read |= n_read > 0 && n_read < n_recv;
        if info["sys_journal_data"].is_string() {
            assert_eq!(info["apply_data"]["contents"], json!([]));
            rich_text = true;
        }
    }
    for name in ControlValue::KNOWN_CONTROLS {
        assert!(seen.contains(*name), "no {name} control in {seen:?}");
    }
    assert!(
        seen.iter()
            .any(|n| !ControlValue::KNOWN_CONTROLS.contains(&n.as_str())),
        "an undocumented type: {seen:?}"
    );
    assert!(nested, "a Table inside a Table row");
    assert!(langs.0 && langs.1, "titles with and without lang");
    assert!(big_comment && reply_ok && partial_read && rich_text && without_template);
}

#[tokio::test]
async fn wedrive_download_needs_its_cookie() {
    let h = start(config()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let (journal, fileid) = h
        .org
        .journals
        .iter()
        .find_map(|j| {
            j.apply_data
                .contents
                .iter()
                .find_map(|ctl| match &ctl.value {
                    ControlValue::WedriveFile { files } if !files.is_empty() => {
                        Some((j.journal_uuid.clone(), files[0].fileid.clone()))
                    }
                    _ => None,
                })
        })
        .expect("a wedrive file");
    let v = post(
        &c,
        &h,
        WEDRIVE,
        &tok,
        json!({"journaluuid": journal, "fileid": fileid}),
    )
    .await;
    assert_eq!(v["errcode"], 0, "{v}");
    let url = v["download_url"].as_str().unwrap();
    assert!(url.starts_with(&h.base_url));
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let cookie = format!(
        "{}={}",
        v["cookie_name"].as_str().unwrap(),
        v["cookie_value"].as_str().unwrap()
    );
    let r = c.get(url).header("Cookie", cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.len() > 100 && bytes.starts_with(b"simulated wedrive file"));
    // A fileid of another journal is refused.
    let other = &h
        .org
        .journals
        .iter()
        .find(|j| j.journal_uuid != journal)
        .unwrap()
        .journal_uuid;
    let v = post(
        &c,
        &h,
        WEDRIVE,
        &tok,
        json!({"journaluuid": other, "fileid": fileid}),
    )
    .await;
    assert_eq!(v["errcode"], 301066);
}
