//! The directory endpoints and the visibility scope.

use super::*;

/// The department ids of a `department/list` or `department/simplelist` answer.
fn department_ids(list: &Value) -> Vec<u64> {
    items(list).iter().map(|d| uint(&d["id"])).collect()
}

/// The departments at and below `root` in the org, by the parent links.
fn subtree(org: &Org, root: u64) -> BTreeSet<u64> {
    let mut want = BTreeSet::from([root]);
    loop {
        let more: Vec<u64> = org
            .departments
            .iter()
            .filter(|d| want.contains(&d.parentid))
            .map(|d| d.id)
            .collect();
        let before = want.len();
        want.extend(more);
        if want.len() == before {
            return want;
        }
    }
}

#[tokio::test]
async fn directory_endpoints_serve_the_org() {
    let h = start(config()).await;
    let c = http();
    let tok = token(&c, &h).await;
    let url = |path: &str, query: &str| format!("{}{path}?access_token={tok}{query}", h.base_url);
    let all: Vec<u64> = h.org.departments.iter().map(|d| d.id).collect();
    let v = get_json(&c, url("/cgi-bin/department/list", "")).await;
    assert_eq!(department_ids(&v["department"]), all);
    // Some ids come as numeric strings, as real servers send them.
    assert!(items(&v["department"]).iter().any(|d| d["id"].is_string()));
    assert!(items(&v["department"]).iter().any(|d| d["id"].is_number()));
    let v = get_json(&c, url("/cgi-bin/department/simplelist", "")).await;
    assert_eq!(department_ids(&v["department_id"]), all);
    assert!(items(&v["department_id"])
        .iter()
        .all(|d| d.get("name").is_none()));
    // id=2: the department and everything below it.
    let want = subtree(&h.org, 2);
    assert!(want.len() >= 3);
    for path in ["/cgi-bin/department/list", "/cgi-bin/department/simplelist"] {
        let v = get_json(&c, url(path, "&id=2")).await;
        let list = v.get("department").unwrap_or(&v["department_id"]);
        let sub: BTreeSet<u64> = department_ids(list).into_iter().collect();
        assert_eq!(sub, want, "{path}");
    }

    let (mut seen_users, mut hidden_main, mut text_ids) = (HashSet::new(), 0, 0);
    for d in &h.org.departments {
        let v = get_json(
            &c,
            url("/cgi-bin/user/list", &format!("&department_id={}", d.id)),
        )
        .await;
        assert_eq!(v["errcode"], 0);
        for u in items(&v["userlist"]) {
            let org_user = h.org.user(u["userid"].as_str().unwrap()).unwrap();
            assert!(org_user.department.contains(&d.id), "direct members only");
            let departments: Vec<u64> = items(&u["department"]).iter().map(uint).collect();
            assert_eq!(departments, org_user.department);
            text_ids += usize::from(u["department"][0].is_string());
            assert_eq!(u.get("main_department").map(uint), org_user.main_department);
            hidden_main += usize::from(u.get("main_department").is_none());
            assert!(!u["name"].as_str().unwrap().is_empty());
            seen_users.insert(org_user.userid.clone());
        }
        // fetch_child=1: the members of the whole subtree, each once.
        let v = get_json(
            &c,
            url(
                "/cgi-bin/user/list",
                &format!("&department_id={}&fetch_child=1", d.id),
            ),
        )
        .await;
        let below = subtree(&h.org, d.id);
        let got: Vec<&str> = items(&v["userlist"])
            .iter()
            .map(|u| u["userid"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = h
            .org
            .users
            .iter()
            .filter(|u| u.department.iter().any(|x| below.contains(x)))
            .map(|u| u.userid.as_str())
            .collect();
        assert_eq!(got, want, "user/list fetch_child of {}", d.id);
        // user/simplelist: the same members, without a main department.
        let v = get_json(
            &c,
            url(
                "/cgi-bin/user/simplelist",
                &format!("&department_id={}&fetch_child=1", d.id),
            ),
        )
        .await;
        let simple: Vec<&str> = items(&v["userlist"])
            .iter()
            .map(|u| u["userid"].as_str().unwrap())
            .collect();
        assert_eq!(simple, want, "user/simplelist of {}", d.id);
        assert!(items(&v["userlist"])
            .iter()
            .all(|u| u.get("main_department").is_none()));
    }
    assert_eq!(seen_users.len(), h.org.users.len());
    assert!(
        hidden_main > 0 && text_ids > 0,
        "hidden {hidden_main} text ids {text_ids}"
    );
    assert!(
        h.org.users.iter().any(|u| u.department.len() > 1),
        "someone is in two departments"
    );
    // user/get: one user, as the directory holds them; an unknown one is 60111.
    for org_user in h.org.users.iter().take(5) {
        let v = get_json(
            &c,
            url("/cgi-bin/user/get", &format!("&userid={}", org_user.userid)),
        )
        .await;
        assert_eq!(v["errcode"], 0, "{v}");
        assert_eq!(v["userid"], org_user.userid.as_str());
        let departments: Vec<u64> = items(&v["department"]).iter().map(uint).collect();
        assert_eq!(departments, org_user.department);
        assert_eq!(v.get("main_department").map(uint), org_user.main_department);
    }
    let v = get_json(&c, url("/cgi-bin/user/get", "&userid=nobody")).await;
    assert_eq!(v["errcode"], 60111);
    let v = get_json(&c, url("/cgi-bin/user/list", "&department_id=999")).await;
    assert_ne!(v["errcode"], 0);
    let v = post(&c, &h, "/cgi-bin/user/list_id", &tok, json!({"limit": 100})).await;
    assert_eq!(v["errcode"], 48002);
}

/// `hidden_departments`: the directory answers for the visible part of the tree only, and a
/// visible user whose main department is hidden comes without one.
#[tokio::test]
async fn a_visibility_scope_hides_departments_and_their_users_main_department() {
    let h = start(SimConfig {
        users: 60,
        hidden_departments: 4,
        // Every user has a main department in the directory, so the ones that come without
        // one lost it to the scope.
        gentle: Gentle {
            main_departments: true,
            ..Gentle::default()
        },
        ..config()
    })
    .await;
    let c = http();
    let tok = token(&c, &h).await;
    let all: Vec<u64> = h.org.departments.iter().map(|d| d.id).collect();
    // The last four by id (the tree lists parents first, so these are whole subtrees).
    let hidden: BTreeSet<u64> = all.iter().rev().take(4).copied().collect();
    let v = get_json(
        &c,
        format!("{}/cgi-bin/department/list?access_token={tok}", h.base_url),
    )
    .await;
    let listed: Vec<u64> = department_ids(&v["department"]);
    let visible: Vec<u64> = all
        .iter()
        .copied()
        .filter(|d| !hidden.contains(d))
        .collect();
    assert_eq!(listed, visible);
    let mut lost_main = 0;
    for d in &all {
        let v = get_json(
            &c,
            format!(
                "{}/cgi-bin/user/list?access_token={tok}&department_id={d}",
                h.base_url
            ),
        )
        .await;
        if hidden.contains(d) {
            assert_eq!(v["errcode"], 60011, "{v}");
            continue;
        }
        assert_eq!(v["errcode"], 0, "{v}");
        for u in items(&v["userlist"]) {
            let org_user = h.org.user(u["userid"].as_str().unwrap()).unwrap();
            let departments: Vec<u64> = items(&u["department"]).iter().map(uint).collect();
            let want: Vec<u64> = org_user
                .department
                .iter()
                .copied()
                .filter(|d| !hidden.contains(d))
                .collect();
            assert_eq!(departments, want);
            let main = org_user.main_department.filter(|m| !hidden.contains(m));
            assert_eq!(u.get("main_department").map(uint), main);
            lost_main += usize::from(org_user.main_department.is_some() && main.is_none());
        }
    }
    assert!(
        lost_main > 0,
        "some visible user lost a hidden main department"
    );
    let hidden_id = hidden.iter().next().unwrap();
    let v = get_json(
        &c,
        format!(
            "{}/cgi-bin/department/list?access_token={tok}&id={hidden_id}",
            h.base_url
        ),
    )
    .await;
    assert_eq!(v["errcode"], 60011, "{v}");
}
