/* The evaluator's app (评价员App): the evaluation object where the phone is, the open and
   finished inspection tasks, and one task's check items — occurrences, note and photo — saved
   one by one as a draft with the phone's position (the server adds the time and the
   deduction), then submitted for review. Reads and writes /api/v1/evaluation/field/*. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("app-config").textContent);
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var MODES = { per_occurrence: "每处扣", once: "发现即扣", all: "发现扣全部分值" };
  var STATES = { pending: "待考察", draft: "草稿", returned: "已退回", submitted: "待审核", approved: "已通过" };
  var view = { finished: false, position: null, tasks: [] };
  $("#who").textContent = cfg.name + (cfg.unit ? " · " + cfg.unit : "");

  var dom = window.CityGridDom, el = dom.el, toast = dom.toast;
  function request(path, init) { return dom.request(path, init, cfg.csrfToken); }
  function failed(e) { toast((e && e.message) || "请求失败"); }

  /* --- where the phone is ------------------------------------------------------------------ */
  function located(p) {
    view.position = { lon: p.coords.longitude, lat: p.coords.latitude };
    request("/api/v1/evaluation/field/objects?lon=" + view.position.lon + "&lat=" + view.position.lat)
      .then(function (data) {
        $("#here").textContent = data.objects.length
          ? "当前位置：" + data.objects.map(function (o) { return o.name; }).join(" · ")
          : "当前位置不在您负责的评价对象内";
      }).catch(failed);
  }
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(located, function () { $("#here").textContent = "无法定位：请允许使用位置"; },
      { enableHighAccuracy: true, maximumAge: 10000 });
  } else { $("#here").textContent = "此设备不支持定位"; }

  /* --- task lists ---------------------------------------------------------------------------- */
  function loadTasks() {
    return request("/api/v1/evaluation/field/tasks?finished=" + view.finished).then(function (data) {
      view.tasks = data.tasks;
      var list = $("#tasks");
      list.replaceChildren();
      data.tasks.forEach(function (t) {
        list.appendChild(el("li", {}, [el("button", { type: "button", "data-task": t.id, onclick: function () { openTask(t.id); } }, [
          el("span", { class: "name", text: t.sample.properties.name }),
          el("span", { class: "meta" }, [el("span", { class: "state " + t.state, text: STATES[t.state] || t.state }),
            " " + t.check_items.length + " 个检查项" + (t.deadline ? " · 截止 " + t.deadline.slice(0, 10) : "")])])]));
      });
      if (!data.tasks.length) { list.appendChild(el("li", { class: "empty", text: view.finished ? "还没有完成的任务" : "没有待考察的任务" })); }
    }).catch(failed);
  }
  document.querySelectorAll("#tabs button").forEach(function (tab) {
    tab.addEventListener("click", function () {
      view.finished = tab.getAttribute("data-finished") === "true";
      document.querySelectorAll("#tabs button").forEach(function (b) { b.setAttribute("aria-selected", b === tab ? "true" : "false"); });
      showList();
      $("#tasks").replaceChildren(el("li", { class: "empty", text: "加载中…" }));
      loadTasks();
    });
  });
  function showList() { $("#task").hidden = true; $("#tasks").hidden = false; }

  /* --- one task ------------------------------------------------------------------------------- */
  function openTask(id) {
    var task = view.tasks.filter(function (t) { return t.id === id; })[0];
    if (task) { render(task); }
  }
  function render(task) {
    var open = ["pending", "draft", "returned"].indexOf(task.state) >= 0;
    var box = $("#task");
    box.replaceChildren(
      el("button", { type: "button", class: "back", text: "‹ 返回列表", onclick: function () { showList(); loadTasks(); } }),
      el("h2", { text: task.sample.properties.name }),
      el("p", { class: "small" }, [el("span", { class: "state " + task.state, id: "task-state", text: STATES[task.state] })]));
    if (task.return_reason && task.state === "returned") {
      box.appendChild(el("p", { class: "reason", text: "退回原因：" + task.return_reason }));
    }
    task.check_items.forEach(function (item) { box.appendChild(itemForm(task, item, open)); });
    if (open) {
      box.appendChild(el("div", { class: "submit-row" }, [el("button", { type: "button", class: "primary", text: "提交审核",
        onclick: function () { submit(task); } })]));
    }
    $("#tasks").hidden = true;
    box.hidden = false;
    box.querySelector(".back").focus();
  }
  function itemForm(task, item, open) {
    var score = item.score || {};
    var count = el("input", { type: "number", min: "0", max: "1000", value: String(score.occurrences || 0),
      "aria-label": item.name + " 发现处数", disabled: open ? null : "disabled" });
    function step(d) { count.value = String(Math.max(0, Number(count.value || 0) + d)); }
    var note = el("textarea", { placeholder: "说明（选填）", "aria-label": item.name + " 说明", disabled: open ? null : "disabled" });
    note.value = score.note || "";
    var photo = el("input", { type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment",
      class: "visually-hidden", disabled: open ? null : "disabled" });
    var chosen = el("span", { class: "small", text: item.score && item.score.photo ? "已有照片" : "未选照片" });
    photo.addEventListener("change", function () { chosen.textContent = photo.files[0] ? photo.files[0].name : "未选照片"; });
    var picker = el("label", { class: "photo" + (open ? "" : " off") }, ["拍照或选择照片", photo]);
    var saved = el("p", { class: "saved", text: item.score ? savedText(item.score) : "" });
    var rule = (MODES[item.mode] || "") + (item.mode === "per_occurrence" ? " " + item.deduction + " 分" +
      (item.max_deduction !== null ? "，最多 " + item.max_deduction + " 分" : "") : item.mode === "once" ? " " + item.deduction + " 分" : "");
    return el("form", { class: "item", "data-item": item.id, onsubmit: function (e) {
      e.preventDefault();
      save(task, item, count, note, photo, saved);
    } }, [
      el("h3", {}, [item.name, el("span", { class: "rule", text: rule })]),
      el("div", { class: "count" }, [
        el("button", { type: "button", text: "−", "aria-label": "减少", onclick: function () { step(-1); }, disabled: open ? null : "disabled" }),
        count,
        el("button", { type: "button", text: "+", "aria-label": "增加", onclick: function () { step(1); }, disabled: open ? null : "disabled" }),
        el("span", { class: "small", text: "处" })]),
      note, el("div", { class: "photo-row" }, [picker, chosen]), saved,
      open ? el("button", { type: "submit", class: "save", text: "保存此项" }) : null]);
  }
  function savedText(score) {
    return "已保存：扣 " + score.deduction + " 分" + (score.distance_m !== null && score.distance_m !== undefined
      ? "，距样本 " + Math.round(score.distance_m) + " 米" : "") + (score.photo ? "，有照片" : "");
  }
  function save(task, item, count, note, photo, saved) {
    if (!view.position) { toast("还没有定位，请稍候"); return; }
    var form = new FormData();
    form.append("check_item", String(item.id));
    form.append("occurrences", String(Number(count.value || 0)));
    form.append("lon", String(view.position.lon));
    form.append("lat", String(view.position.lat));
    form.append("note", note.value);
    if (photo.files[0]) { form.append("photo", photo.files[0]); }
    request("/api/v1/evaluation/field/tasks/" + task.id + "/scores", { method: "POST", body: form }).then(function (fresh) {
      replace(fresh);
      var badge = $("#task-state");
      badge.textContent = STATES[fresh.state];
      badge.className = "state " + fresh.state;
      var mine = fresh.check_items.filter(function (i) { return i.id === item.id; })[0];
      saved.textContent = savedText(mine.score);
      toast("已保存（草稿）");
    }).catch(failed);
  }
  function submit(task) {
    request("/api/v1/evaluation/field/tasks/" + task.id + "/submit", { method: "POST" }).then(function (fresh) {
      replace(fresh);
      toast("已提交审核");
      render(fresh);
    }).catch(failed);
  }
  function replace(fresh) {
    view.tasks = view.tasks.map(function (t) { return t.id === fresh.id ? fresh : t; });
  }

  loadTasks();
})();
