/* The system check page (系统检查): services, versions, disks, the task queue and the latest
   background jobs with their errors, from GET /api/v1/system/status. */
(function () {
  "use strict";
  var G = window.GisAdmin, el = G.el;
  var SERVICES = { database: "数据库（PostgreSQL/PostGIS）", redis: "Redis", celery: "后台任务（Celery）" };
  var OVERALL = { ok: "系统正常", degraded: "部分服务异常", failed: "数据库不可用" };
  var STATES = { pending: "排队", running: "运行中", succeeded: "成功", failed: "失败" };
  var KINDS = { layer_import: "图层导入", geocode_batch: "批量地理编码", seed_tiles: "瓦片预生成", cases_export: "案件导出", cases_print: "案件打印" };
  var NAMES = { python: "Python", django: "Django", gdal: "GDAL", postgresql: "PostgreSQL", postgis: "PostGIS", geos: "GEOS",
    proj: "PROJ", maplibre_gl: "MapLibre GL JS", terra_draw: "terra-draw" };
  var DISKS = { data: "数据目录", uploads: "上传目录", media: "附件目录" };

  function time(text) { return text ? text.slice(0, 19).replace("T", " ") : "—"; }
  function gb(bytes) { return (bytes / 1073741824).toFixed(1) + " GB"; }

  function render(s) {
    var head = document.getElementById("overall");
    head.textContent = OVERALL[s.status];
    head.className = "status-" + s.status;
    document.getElementById("checked-at").textContent = "检查于 " + time(s.checked_at);
    var services = document.getElementById("services");
    services.innerHTML = "";
    Object.keys(SERVICES).forEach(function (key) {
      var svc = s.services[key], detail = svc.ok ? (svc.ms !== undefined ? svc.ms + " ms" : "") : (svc.error || "无响应");
      if (key === "celery" && svc.ok) { detail = svc.workers.length + " 个工作进程"; }
      services.appendChild(el("div", { class: "card " + (svc.ok ? "ok" : "bad"), "data-service": key }, [
        el("div", { class: "title", text: SERVICES[key] }), el("div", { text: svc.ok ? "正常" : "异常" }),
        el("div", { class: "small", text: detail })]));
    });
    var versions = document.querySelector("#versions tbody");
    versions.innerHTML = "";
    Object.keys(NAMES).forEach(function (k) { versions.appendChild(el("tr", {}, [el("th", { text: NAMES[k] }), el("td", { text: s.versions[k] || "—" })])); });
    var disks = document.getElementById("disks");
    disks.innerHTML = "";
    s.disks.forEach(function (d) {
      var bar = el("progress", { max: "1", value: String(d.used_share || 0) });
      disks.appendChild(el("div", { class: "disk" + (d.warning ? " warn" : "") }, [
        el("div", { class: "line1" }, [el("span", { text: DISKS[d.name] + " " + d.path }),
          el("span", { class: "small", text: "已用 " + Math.round((d.used_share || 0) * 100) + "%，剩余 " + gb(d.free_bytes) + " / 共 " + gb(d.total_bytes) })]), bar]));
    });
    var queues = document.getElementById("queues");
    queues.innerHTML = "";
    s.queues.forEach(function (q) { queues.appendChild(el("div", { "data-queue": q.name, text: q.name + "：" + (q.waiting === null ? "无法读取" : q.waiting + " 个任务等待") })); });
    var counts = document.getElementById("job-counts");
    counts.innerHTML = "";
    Object.keys(STATES).forEach(function (k) {
      counts.appendChild(el("div", { class: "card small-card" + (k === "failed" && s.jobs.last_day[k] ? " bad" : ""), "data-state": k },
        [el("div", { class: "title", text: String(s.jobs.last_day[k]) }), el("div", { class: "small", text: STATES[k] })]));
    });
    var jobs = document.querySelector("#jobs tbody");
    jobs.innerHTML = "";
    if (!s.jobs.latest.length) { jobs.appendChild(el("tr", {}, [el("td", { colspan: "7", class: "small", text: "没有后台任务。" })])); }
    s.jobs.latest.forEach(function (j) {
      jobs.appendChild(el("tr", { class: j.state === "failed" ? "holiday" : "", "data-job": j.id }, [
        el("td", { text: time(j.created_at) }), el("td", { text: KINDS[j.kind] || j.kind }), el("td", { text: STATES[j.state] }),
        el("td", { text: j.owner || "系统" }), el("td", { text: j.file_name || "" }), el("td", { text: time(j.finished_at) }),
        el("td", { class: "error-text", text: j.error || "" })]));
    });
  }

  function load() {
    return G.api("GET", "/api/v1/system/status").then(render, function (err) { G.toast(err.message, true); });
  }
  document.getElementById("refresh").addEventListener("click", load);
  load().then(function () { window.gisReady = true; });
})();
