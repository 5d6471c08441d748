/* The dispatcher console (指挥调度台): boxes, list, map and detail over the case API, with live
   arrivals from the stream server. Every write goes through POST /api/v1/cases/... actions. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("console-config").textContent);
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var PAGE = 50;

  var STATE_NAMES = { reported: "待受理", not_accepted: "不予受理", to_verify: "待核实",
    verifying: "核实中", invalid: "核实无效", to_register: "待立案", not_registered: "不予立案",
    to_dispatch: "待派遣", handling: "处置中", to_check: "待核查", checking: "核查中",
    to_close: "待结案", closed: "已结案", supplementing: "补采中", to_review: "待审核",
    merged: "已合并" };
  var SOURCES = { inspector: "监督员上报", public: "公众举报", hotline: "12345热线", video: "视频监控",
    leader: "领导交办", survey: "专项普查", media: "媒体曝光" };
  var LEVELS = { routine: "日常", general: "一般", serious: "严重", major: "重大" };
  var ACTION_NAMES = { accept: "受理", not_accept: "不予受理", restore: "恢复", request_verify: "派发核实",
    verify: "核实", register: "立案", not_register: "不予立案", dispatch: "派遣", feedback: "处置反馈",
    request_check: "派发核查", check: "核查", close: "结案", rework: "返工", apply: "申请",
    release: "解除挂账", callback: "回访", request_supplement: "派发补采", supplement: "补采上报",
    archive: "归档", send_to_register: "转立案", link_duplicate: "认定重复", dismiss_duplicate: "排除重复",
    duplicate_linked: "被认定重复", unlink_duplicate: "撤销重复认定", merge: "合并案件", merged_into: "并入", unmerge: "撤销合并",
    unmerged: "撤销合并", assign: "分派受理员", hand_over: "交班退回" };
  var KINDS = { return: "申请回退", extension: "申请延期", hold: "申请挂账", void: "申请作废",
    transfer: "申请转办", assist: "申请协办", merge: "申请合并" };
  var view = { box: null, page: 0, selected: null, cases: [], counts: {}, fresh: {},
    categories: null, departments: null };

  /* --- API ---------------------------------------------------------------------------- */
  function api(path, options) {
    options = options || {};
    var init = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (options.body !== undefined) {
      init.method = options.method || "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = cfg.csrfToken;
      init.body = JSON.stringify(options.body);
    }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = (data && data.error) || { message: "请求失败 (" + response.status + ")" };
          error.status = response.status;
          error.current = data.current;
          throw error;
        }
        return data;
      });
    });
  }

  function toast(text) {
    var el = $("#toast");
    el.textContent = text;
    el.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.classList.remove("show"); }, 3000);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function when(iso) {
    return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  /* --- time left ------------------------------------------------------------------------ */
  function timeLeft(c) {
    if (!c.deadline) { return { text: "—", cls: "" }; }
    var ms = new Date(c.deadline).getTime() - Date.now();
    var abs = Math.abs(ms), d = Math.floor(abs / 86400000);
    var h = Math.floor((abs % 86400000) / 3600000), m = Math.floor((abs % 3600000) / 60000);
    var span = d >= 2 ? d + "天" + (h ? h + "小时" : "") : (d * 24 + h ? d * 24 + h + "小时" : "") + m + "分";
    if (ms < 0) { return { text: "超期 " + span, cls: "dl-overdue" }; }
    return { text: "剩 " + span, cls: c.deadline_state === "warning" ? "dl-warning" : "dl-normal" };
  }

  /* --- standard phrases (惯用语) ----------------------------------------------------------- */
  /* Per action from /api/v1/cases/phrases: the user's own first (marked, deletable), then the
     system's; a click puts one in the opinion box, and the opinion typed can be kept as one's own. */
  var phraseCache = {};
  function loadPhrases(key) {
    if (!phraseCache[key]) {
      phraseCache[key] = api("/api/v1/cases/phrases?action=" + encodeURIComponent(key))
        .then(function (d) { return d.phrases; }).catch(function () { return null; });  /* no phrases for this form */
    }
    return phraseCache[key];
  }
  function phraseBox(key, input) {
    var box = el("div", { class: "phrases", "data-phrases": key });
    function render() {
      loadPhrases(key).then(function (list) {
        box.textContent = "";
        if (!list) { box.hidden = true; return; }
        list.forEach(function (p) {
          box.appendChild(el("button", { type: "button", class: p.personal ? "mine" : "", "data-phrase": String(p.id), text: p.text,
            title: p.personal ? "我的惯用语" : "系统惯用语", onclick: function () { input.value = p.text; input.focus(); } }));
          if (p.personal) {
            box.appendChild(el("button", { type: "button", class: "drop", text: "✎", "aria-label": "修改我的惯用语：" + p.text,
              onclick: function (e) { editPhrase(e.target.previousSibling, p); } }));
            box.appendChild(el("button", { type: "button", class: "drop", text: "×", "aria-label": "删除我的惯用语：" + p.text,
              onclick: function () {
                api("/api/v1/cases/phrases/" + p.id, { method: "DELETE", body: {} }).then(function () {
                  delete phraseCache[key]; render(); toast("已删除惯用语");
                }).catch(function (error) { toast(error.message); });
              } }));
          }
        });
        box.appendChild(el("button", { type: "button", class: "keep", text: "＋存为我的惯用语", onclick: function () {
          var text = input.value.trim();
          if (!text) { toast("请先填写要保存的内容"); input.focus(); return; }
          api("/api/v1/cases/phrases", { body: { action: key, text: text } }).then(function () {
            delete phraseCache[key]; render(); toast("已存为我的惯用语");
          }).catch(function (error) { toast(error.status === 409 ? "该惯用语已存在" : error.message); });
        } }));
      });
    }
    /* One's own phrase edited in place: Enter saves, Escape leaves it as it was. */
    function editPhrase(button, p) {
      var input = el("input", { type: "text", value: p.text, maxlength: "500", "aria-label": "修改惯用语", class: "phrase-edit" });
      function save() {
        api("/api/v1/cases/phrases/" + p.id, { method: "PATCH", body: { text: input.value } }).then(function () {
          delete phraseCache[key]; render(); toast("已修改惯用语");
        }).catch(function (error) { toast(error.status === 409 ? "该惯用语已存在" : error.message); input.focus(); });
      }
      input.addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); save(); }
        if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); render(); }
      });
      button.replaceWith(input);
      input.after(el("button", { type: "button", class: "keep", text: "保存", onclick: save }));
      input.focus();
      input.select();
    }
    render();
    return box;
  }

  /* --- automatic assignment (案件智能分配): one's duty, and assigning by hand ---------------- */
  function showDuty(seat) {
    var button = $("#duty");
    button.hidden = !seat || !seat.auto_assign;
    if (button.hidden) { return; }
    button.setAttribute("aria-pressed", String(seat.on_duty));
    button.classList.toggle("on", seat.on_duty);
    button.textContent = seat.on_duty ? "在岗 · " + seat.load + "件 · 交班" : "未上岗 · 上岗";
  }
  function loadDuty() {
    if (!can("cases.accept")) { return; }
    api("/api/v1/cases/assignment/duty").then(showDuty).catch(function () { showDuty(null); });
  }
  $("#duty").addEventListener("click", function () {
    var going = $("#duty").getAttribute("aria-pressed") !== "true";
    api("/api/v1/cases/assignment/duty", { body: { on_duty: going } }).then(function (answer) {
      toast(going ? "已上岗，开始接收分派的案件" : "已交班，" + answer.handed_over + " 件未办案件退回待分配");
      loadDuty(); loadBoxes(); loadList();
    }).catch(function (error) { toast(error.message); });
  });
  /* The shift leader's 分派: a case in an acceptor stage, to one of the seats (with its load). */
  function assignSection(c, detail) {
    if (!can("cases.register") || ["reported", "to_verify", "to_review"].indexOf(c.state) < 0) { return; }
    api("/api/v1/cases/assignment/seats").then(function (data) {
      if (!data.seats.length || view.selected !== c.id) { return; }
      var select = el("select", { id: "assign-to", "aria-label": "分派给受理员" });
      data.seats.forEach(function (s) {
        var option = el("option", { value: String(s.user), text: s.name + "（" + (s.on_duty ? "在岗" : "未上岗") + " · " + s.load + "件）" });
        option.selected = s.user === c.acceptor;
        select.appendChild(option);
      });
      var go = el("button", { type: "button", text: c.acceptor ? "改分派" : "分派", onclick: function () {
        api("/api/v1/cases/" + c.id + "/assign", { body: { acceptor: Number(select.value), version: c.version } }).then(function (updated) {
          toast("已分派：" + updated.number); loadBoxes(); loadList(); selectCase(c.id);
        }).catch(function (error) { toast(error.message); });
      } });
      var holder = $("#assign-section");
      if (holder) { holder.append(el("label", { text: "受理员 " }, [select]), go); }
    }).catch(function () { /* no seats to show */ });
  }

  /* --- boxes ---------------------------------------------------------------------------- */
  function loadBoxes() {
    return api("/api/v1/cases/boxes").then(function (data) {
      var list = $("#box-list");
      list.textContent = "";
      data.boxes.forEach(function (box) {
        var before = view.counts[box.key];
        if (before !== undefined && box.count > before && box.key !== view.box) { view.fresh[box.key] = true; }
        view.counts[box.key] = box.count;
        if (view.box === null) { view.box = box.key; }
        var button = el("button", { type: "button", "data-box": box.key,
          "aria-current": String(box.key === view.box),
          onclick: function () { view.box = box.key; view.boxOpened = true; view.page = 0; delete view.fresh[box.key]; loadBoxes(); loadList(); } },
          [el("span", { text: box.title }, [el("span", { class: "dot" + (view.fresh[box.key] || box.new ? " on" : ""), "aria-hidden": "true" }),
            /* new arrivals since the user last opened this box (kept on the server) */
            box.new && !(box.key === view.box && view.listedBox === box.key)
              ? el("span", { class: "new", title: "上次打开后新到 " + box.new + " 件", text: "新" + box.new }) : null]),
           el("span", { class: "count", text: String(box.count) })]);
        list.appendChild(el("li", {}, [button]));
      });
    }).catch(function (error) { toast(error.message); });
  }

  /* --- list ----------------------------------------------------------------------------- */
  function listQuery() {
    var params = new URLSearchParams();
    if (view.box) { params.set("box", view.box); }
    var q = $("#q").value.trim(); if (q) { params.set("q", q); }
    var source = $("#f-source").value; if (source) { params.set("source", source); }
    var deadline = $("#f-deadline").value; if (deadline) { params.set("deadline_state", deadline); }
    params.set("limit", PAGE);
    params.set("offset", view.page * PAGE);
    return params.toString();
  }

  function loadList(freshIds) {
    return api("/api/v1/cases?" + listQuery()).then(function (data) {
      view.cases = data.features;
      if (view.box && view.boxOpened) {  /* the user opened the box's list: its new cases are seen */
        view.listedBox = view.box;
        var seen = document.querySelector("button[data-box='" + view.box + "'] .new");
        if (seen) { seen.remove(); }
      }
      var body = $("#cases tbody");
      body.textContent = "";
      data.features.forEach(function (f) {
        var c = f.properties, left = timeLeft(c);
        var row = el("tr", { tabindex: "0", "data-id": String(c.id),
          class: (c.id === view.selected ? "selected " : "") + (freshIds && freshIds[c.id] ? "fresh" : ""),
          onclick: function () { selectCase(c.id); },
          onkeydown: function (e) { if (e.key === "Enter") { selectCase(c.id); } } }, [
          el("td", {}, [el("div", { class: "num", text: c.number }), el("div", { class: "small", text: SOURCES[c.source] || c.source })]),
          el("td", {}, [el("div", {}, [c.urgent ? el("span", { class: "urgent", text: "急" }) : null,
            c.similar_count ? el("span", { class: "similar", title: "相似案件 " + c.similar_count + " 件", text: "相似" }) : null,
            c.duplicate_of ? el("span", { class: "similar duplicate", title: "重复案件（结案后复发）", text: "重复" }) : null,
            document.createTextNode(c.category.name)]),
            el("div", { class: "small clip", text: c.description, title: c.description })]),
          el("td", {}, [el("div", { class: "small", text: c.placement.street ? c.placement.street.name : "" }),
            el("div", { class: "small clip", text: c.address || "", title: c.address || "" })]),
          el("td", {}, [el("span", { class: "state", text: c.state_name })]),
          el("td", { class: left.cls, text: left.text })
        ]);
        body.appendChild(row);
      });
      var pages = Math.max(1, Math.ceil(data.numberMatched / PAGE));
      $("#list-summary").textContent = "共 " + data.numberMatched + " 件";
      $("#page").textContent = (view.page + 1) + " / " + pages;
      $("#prev").disabled = view.page === 0;
      $("#next").disabled = view.page + 1 >= pages;
      showOnMap(data);
    }).catch(function (error) { toast(error.message); });
  }

  /* --- map ------------------------------------------------------------------------------ */
  /* The calm base (common/basemap.js) with the busy layers switchable in the map's corner. */
  var TOGGLES = { components: "部件", responsibility_grids: "责任网格", unit_grids: "单元网格" };
  var map = null;
  var mapReady = fetch(cfg.styleUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (style) {
      map = new maplibregl.Map({ container: "map", style: CityGridBase.calm(style, TOGGLES), center: cfg.center, zoom: cfg.zoom,
        localIdeographFontFamily: "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif" });
      map.addControl(new maplibregl.NavigationControl(), "top-right");
      map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
      window.consoleMap = map;
      return new Promise(function (resolve) { map.on("load", resolve); });
    });

  function mapToggles() {
    var box = el("div", { class: "map-toggles" });
    Object.keys(TOGGLES).forEach(function (key) {
      var input = el("input", { type: "checkbox", "data-layer": key, onchange: function (e) {
        CityGridBase.showLayer(map, key, e.target.checked);
      } });
      box.appendChild(el("label", {}, [input, document.createTextNode(" " + TOGGLES[key])]));
    });
    $("#map").appendChild(box);
  }

  mapReady.then(function () {
    mapToggles();
    map.addSource("console-cases", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "console-cases", type: "circle", source: "console-cases", paint: {
      "circle-radius": ["case", ["==", ["get", "selected"], true], 9, 6],
      "circle-color": ["match", ["get", "deadline_state"], "overdue", "#dc2626", "warning", "#d97706", "#1c64f2"],
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
    map.on("click", "console-cases", function (e) { e.preventDefault(); selectCase(e.features[0].properties.id); });
    map.on("mouseenter", "console-cases", function () { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "console-cases", function () { map.getCanvas().style.cursor = ""; });
    map.on("click", function (e) { if (!e.defaultPrevented) { placeHere(e.lngLat); } });
  });

  function showOnMap(data) {
    mapReady.then(function () {
      var features = data.features.map(function (f) {
        return { type: "Feature", geometry: f.geometry, properties: { id: f.id, deadline_state: f.properties.deadline_state,
          category_name: f.properties.category.name, selected: f.id === view.selected } };
      });
      map.getSource("console-cases").setData({ type: "FeatureCollection", features: features });
    });
  }

  /* A click on the map: where it is (locate + reverse) and a registration form prefilled. */
  function placeHere(lngLat) {
    var q = "lon=" + lngLat.lng.toFixed(7) + "&lat=" + lngLat.lat.toFixed(7);
    Promise.all([api("/api/v1/locate?" + q), api("/api/v1/reverse?" + q).catch(function () { return {}; })])
      .then(function (answers) {
        var p = answers[0].placement, address = reverseAddress(answers[1]);
        var where = [p.district && p.district.name, p.street && p.street.name, p.community && p.community.name]
          .filter(Boolean).join(" · ") || "城市范围外";
        var box = el("div", {}, [el("strong", { text: where }), el("div", { class: "small", text: address || "" }),
          el("div", { class: "small", text: p.unit_grid ? "单元网格 " + p.unit_grid : "" })]);
        if (p.district && can("cases.report")) {
          box.appendChild(el("button", { type: "button", text: "在此登记案件", onclick: function () {
            popup.remove(); reportForm(lngLat, address, where);
          } }));
        }
        var popup = new maplibregl.Popup({ closeOnClick: true }).setLngLat(lngLat).setDOMContent(box).addTo(map);
      }).catch(function (error) { toast(error.message); });
  }

  function reverseAddress(answer) {
    if (!answer) { return ""; }
    if (answer.address) { return typeof answer.address === "string" ? answer.address : (answer.address.text || ""); }
    var top = (answer.results || answer.candidates || [])[0];
    return top ? (top.address || top.label || top.name || "") : "";
  }

  function can(permission) { return cfg.permissions.indexOf(permission) >= 0; }

  /* --- categories and departments ------------------------------------------------------- */
  function categories() {
    if (!view.categories) { view.categories = api("/api/v1/categories").then(function (d) { return d.categories; }); }
    return view.categories;
  }
  function minorOf(kind, code) {
    return categories().then(function (tree) {
      var found = null;
      tree.forEach(function (major) { (major.children || []).forEach(function (m) {
        if (m.code === code && (m.kind || major.kind) === kind) { found = m; } }); });
      return found;
    });
  }
  function departments() {
    if (!view.departments) { view.departments = api("/api/v1/cases/departments").then(function (d) { return d.departments; }); }
    return view.departments;
  }

  /* --- registration form ---------------------------------------------------------------- */
  function reportForm(lngLat, address, where) {
    var detail = $("#detail");
    detail.textContent = "";
    var kind = el("select", { name: "kind", "aria-label": "类型" }, [el("option", { value: "event", text: "事件" }), el("option", { value: "component", text: "部件" })]);
    var category = el("select", { name: "category", required: "required", "aria-label": "小类" });
    var source = el("select", { name: "source", "aria-label": "来源" });
    Object.keys(SOURCES).forEach(function (k) { source.appendChild(el("option", { value: k, text: SOURCES[k] })); });
    source.value = can("cases.accept") ? "hotline" : "inspector";
    var level = el("select", { name: "level", "aria-label": "等级" });
    Object.keys(LEVELS).forEach(function (k) { level.appendChild(el("option", { value: k, text: LEVELS[k] })); });
    var description = el("textarea", { name: "description", required: "required", maxlength: "4000", "aria-label": "问题描述" });
    var suggested = recommendBox(description, lngLat, function (r) {
      kind.value = r.kind;
      return fillCategories().then(function () { category.value = r.code; });
    });
    var addressInput = el("input", { name: "address", value: address || "", "aria-label": "地址" });
    var reporterName = el("input", { name: "reporter_name", "aria-label": "反映人" });
    var reporterPhone = el("input", { name: "reporter_phone", "aria-label": "联系电话" });
    var selfHandled = selfHandledFields(source);
    function fillCategories() {
      return categories().then(function (tree) {
        category.textContent = "";
        tree.filter(function (m) { return m.kind === kind.value; }).forEach(function (major) {
          var group = el("optgroup", { label: major.name });
          (major.children || []).forEach(function (m) { group.appendChild(el("option", { value: m.code, text: m.code + " " + m.name })); });
          category.appendChild(group);
        });
      });
    }
    kind.addEventListener("change", fillCategories);
    fillCategories();
    var message = el("p", { class: "error", role: "alert" });
    var form = el("form", { onsubmit: function (e) {
      e.preventDefault();
      var body = { source: source.value, kind: kind.value, category: category.value, level: level.value,
        description: description.value, address: addressInput.value, lon: lngLat.lng, lat: lngLat.lat };
      if (reporterName.value || reporterPhone.value) { body.reporter = { name: reporterName.value, phone: reporterPhone.value }; }
      (selfHandled.checked() ? selfHandled.send(body) : api("/api/v1/cases", { body: body })).then(function (c) {
        toast("已登记 " + c.number); loadBoxes(); loadList(); selectCase(c.id);
      }).catch(function (error) { message.textContent = error.message; });
    } }, [
      el("label", { text: "来源" }, [source]), el("label", { text: "类型" }, [kind]), el("label", { text: "小类" }, [category]),
      el("label", { text: "等级" }, [level]), el("label", { text: "问题描述" }, [description]), suggested,
      el("label", { text: "地址" }, [addressInput]), el("label", { text: "反映人" }, [reporterName]),
      el("label", { text: "联系电话" }, [reporterPhone])].concat(selfHandled.fields, [message,
      el("button", { type: "submit", class: "primary", text: "登记" })]));
    detail.appendChild(el("h2", { text: "登记案件" }));
    detail.appendChild(el("p", { class: "small", text: where + "（" + lngLat.lng.toFixed(6) + ", " + lngLat.lat.toFixed(6) + "）" }));
    detail.appendChild(form);
    description.focus();
  }

  /* The three likeliest classes of the description typed (/api/v1/cases/recommend, 分类推荐) as
     chips under it, asked once typing pauses; a click sets the type and the class (`choose`).
     Nothing shows before a model exists or for a position that may not ask. */
  function recommendBox(input, lngLat, choose) {
    var box = el("div", { class: "phrases recommend", "aria-live": "polite", style: "display: none" });
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value.trim();
        if (text.length < 4 || text === asked) { return; }
        asked = text;
        var query = "text=" + encodeURIComponent(text) + "&lon=" + lngLat.lng + "&lat=" + lngLat.lat;
        api("/api/v1/cases/recommend?" + query).then(function (d) {
          if (asked !== text) { return; }
          box.textContent = "";
          box.appendChild(el("span", { class: "small", text: "推荐分类：" }));
          d.recommendations.forEach(function (r) {
            var dept = r.department ? "，处置部门：" + r.department.name : "";
            box.appendChild(el("button", { type: "button", "data-recommend": r.kind + ":" + r.code,
              text: (r.kind === "component" ? "部件 " : "事件 ") + r.code + " " + r.name + " " + Math.round(r.probability * 100) + "%",
              title: "可能性 " + Math.round(r.probability * 100) + "%" + dept,
              onclick: function (e) {
                var chip = e.currentTarget;
                choose(r).then(function () {
                  Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.classList.toggle("mine", b === chip); });
                });
              } }));
          });
          box.style.display = d.recommendations.length ? "" : "none";
        }).catch(function () { box.style.display = "none"; });
      }, 400);
    });
    return box;
  }

  /* --- case detail ---------------------------------------------------------------------- */
  /* Shows a case. A live refresh (`live`) never replaces a form the user opened meanwhile:
     the answer may arrive after they clicked an action; a note says the case changed. */
  function selectCase(id, live) {
    view.selected = id;
    var formAsked = $("#action-form") && $("#action-form").lastChild;
    Array.prototype.forEach.call(document.querySelectorAll("#cases tr"), function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-id") === String(id));
    });
    Promise.all([api("/api/v1/cases/" + id), api("/api/v1/cases/" + id + "/history"), api("/api/v1/cases/" + id + "/media"),
      api("/api/v1/cases/" + id + "/supervisions").catch(function () { return { supervisions: [] }; })])
      .then(function (answers) {
        var open = $("#action-form");
        /* An answer arriving late (slow under load) never wipes a form opened since it was asked. */
        if (open && open.lastChild && open.lastChild !== formAsked) { return; }
        if (live && open && open.children.length) {
          if (!$("#stale-note")) { open.prepend(el("p", { id: "stale-note", class: "error", text: "案件已被更新，提交前请确认（提交时将按最新状态校验）" })); }
          return;
        }
        if (view.selected === id) { renderDetail(answers[0], answers[1].events, answers[2].media, answers[3].supervisions); }
      })
      .catch(function (error) { toast(error.message); });
  }

  function renderDetail(c, events, media, supervisions) {
    var detail = $("#detail");
    detail.textContent = "";
    var left = timeLeft(c), p = c.placement;
    detail.appendChild(el("h3", { text: c.category.name + " · " + c.state_name }));
    detail.appendChild(el("div", { class: "num", text: "任务号 " + c.number }));
    var sheet = "/api/v1/cases/" + c.id + "/print.pdf";
    detail.appendChild(el("div", { class: "small print-links" }, [el("a", { href: sheet, target: "_blank", rel: "noopener", text: "打印" }),
      document.createTextNode(" · "), el("a", { href: sheet + "?history=1", target: "_blank", rel: "noopener", text: "打印（含办理经过）" })]));
    var rows = [["来源", SOURCES[c.source] || c.source], ["类别", (c.category.kind === "event" ? "事件" : "部件") + " / " + c.category.major + " / " + c.category.name],
      ["等级", LEVELS[c.level] + (c.urgent ? " · 紧急" : "")], ["描述", c.description], ["地址", c.address || "—"],
      ["位置", [p.district && p.district.name, p.street && p.street.name, p.community && p.community.name].filter(Boolean).join(" · ")],
      ["网格", (p.unit_grid || "—") + (p.responsibility_grid ? " / " + p.responsibility_grid.name : "")],
      ["处置部门", c.department ? c.department.name : "—"], ["时限", c.deadline ? when(c.deadline) : "—"]];
    if (c.reporter) { rows.push(["反映人", (c.reporter.name || "—") + " " + (c.reporter.phone || "")]); }
    var dl = el("dl");
    rows.forEach(function (r) { dl.appendChild(el("dt", { text: r[0] })); dl.appendChild(el("dd", { text: r[1] })); });
    detail.appendChild(el("p", { class: left.cls, text: left.text }));
    detail.appendChild(dl);
    fieldDetail(c, events, media, detail);
    dispatchProgress(c, detail);
    similarCases(c, detail);
    duplicateCases(c, detail);
    nearbySection(c, detail);
    if (can("cases.register") && ["reported", "to_verify", "to_review"].indexOf(c.state) >= 0) {
      detail.appendChild(el("h2", { text: "分派受理员" }));
      detail.appendChild(el("div", { id: "assign-section", class: "actions" }));
      assignSection(c, detail);
    }
    var actionBar = el("div", { class: "actions" });
    c.actions.forEach(function (name) {
      actionBar.appendChild(el("button", { type: "button", "data-action": name, text: ACTION_NAMES[name] || name,
        onclick: function () { actionForm(c, name); } }));
    });
    consoleActions(c).forEach(function (b) { actionBar.appendChild(b); });
    if (actionBar.children.length) { detail.appendChild(el("h2", { text: "办理" })); detail.appendChild(actionBar); }
    detail.appendChild(el("div", { id: "action-form" }));
    if (supervisions && supervisions.length) { detail.appendChild(supervisionList(c, supervisions)); }
    detail.appendChild(el("h2", { text: "办理经过" }));
    var timeline = el("ol", { class: "timeline" });
    events.forEach(function (e) {
      timeline.appendChild(el("li", {}, [
        el("div", { text: eventName(e.action) + editedFields(e) + (e.to && e.to !== e.from ? " → " + (STATE_NAMES[e.to] || e.to) : "") }),
        el("div", { class: "small", text: when(e.at) + " · " + e.actor + (e.position ? "（" + e.position + "）" : "") }),
        e.opinion ? el("div", { class: "small", text: e.opinion }) : null
      ]));
    });
    detail.appendChild(timeline);
    showOnMap({ features: view.cases.length ? view.cases : [] });
    if (map && map.loaded()) { map.easeTo({ center: [c.lon, c.lat], zoom: Math.max(map.getZoom(), 15) }); }
  }

  var BEFORE_DISPATCH = ["reported", "to_verify", "verifying", "supplementing", "to_review", "to_register", "to_dispatch"];
  /* --- similar cases (相似案件): those found when the case was reported, nearest first ---- */
  function similarCases(c, detail) {
    if (!c.similar_count) { return; }
    var box = el("section", { class: "similar-cases" }, [el("h2", { text: "相似案件（" + c.similar_count + "）" })]);
    detail.appendChild(box);
    api("/api/v1/cases/" + c.id + "/similar").then(function (data) {
      var list = el("ul", { class: "small" });
      /* 案件合并 (5.3.3): the accepting or registering position ticks similar cases not yet
         dispatched and merges them with this one into the earliest reported. */
      var mayMerge = (can("cases.accept") || can("cases.register")) && BEFORE_DISPATCH.indexOf(c.state) >= 0;
      /* A handling department applies to merge its own cases of the problem (申请合并). */
      var mayApply = !mayMerge && can("cases.handle") && c.state === "handling";
      var chosen = {};
      data.similar.forEach(function (s) {
        var tick = null;
        if ((mayMerge && BEFORE_DISPATCH.indexOf(s.state) >= 0) || (mayApply && s.state === "handling")) {
          tick = el("input", { type: "checkbox", "data-merge": String(s.id), "aria-label": "选择合并 " + s.number,
            onchange: function (e) { if (e.target.checked) { chosen[s.id] = s.version; } else { delete chosen[s.id]; } } });
        }
        list.appendChild(el("li", {}, [tick, el("a", { href: "#", text: s.number, onclick: function (event) { event.preventDefault(); selectCase(s.id); } }),
          document.createTextNode(" " + s.category.name + " · " + s.state_name + " · " + s.distance_m + " 米 · " + when(s.reported_at))]));
      });
      if (!data.similar.length) { list.appendChild(el("li", { text: "相似案件不在您的范围内" })); }
      box.appendChild(list);
      if (mayApply && list.querySelector("input[data-merge]")) {
        var reasonInput = el("input", { type: "text", id: "merge-reason", maxlength: "2000", placeholder: "申请理由（必填）", "aria-label": "申请合并理由" });
        box.appendChild(el("div", { class: "merge-bar" }, [reasonInput, el("button", { type: "button", "data-merge-apply": "1", text: "申请合并",
          onclick: function () {
            var ids = Object.keys(chosen).map(Number);
            if (!ids.length) { toast("请先勾选要合并的相似案件"); return; }
            if (!reasonInput.value.trim()) { toast("请填写申请理由"); reasonInput.focus(); return; }
            api("/api/v1/cases/" + c.id + "/applications", { body: { version: c.version, kind: "merge", reason: reasonInput.value, cases: ids } })
              .then(function () { toast("已申请合并，等待中心答复"); selectCase(c.id); })
              .catch(function (error) { toast(error.message); });
          } })]));
      }
      if (mayMerge && list.querySelector("input[data-merge]")) {
        var opinion = el("input", { type: "text", id: "merge-opinion", maxlength: "2000", placeholder: "合并说明（可选）", "aria-label": "合并说明" });
        box.appendChild(el("div", { class: "merge-bar" }, [opinion, el("button", { type: "button", "data-merge-go": "1", text: "合并到最早上报的案件",
          onclick: function () {
            var picked = Object.keys(chosen).map(function (id) { return { id: Number(id), version: chosen[id] }; });
            if (!picked.length) { toast("请先勾选要合并的相似案件"); return; }
            picked.push({ id: c.id, version: c.version });
            api("/api/v1/cases/merge", { body: { cases: picked, opinion: opinion.value } }).then(function (survivor) {
              toast("已合并到 " + survivor.number); loadBoxes(); loadList(); selectCase(survivor.id);
            }).catch(function (error) { toast(error.message); });
          } })]));
      }
    }).catch(function (error) { toast(error.message); });
  }

  /* --- duplicate cases (重复案件): earlier closed cases it repeats; link or dismiss ------- */
  function duplicateCases(c, detail) {
    if (c.state !== "to_register" && c.state !== "not_registered" && !c.duplicate_of) { return; }
    var box = el("section", { class: "duplicate-cases" });
    detail.appendChild(box);
    api("/api/v1/cases/" + c.id + "/duplicates").then(function (data) {
      if (data.status === "none") { return; }
      var title = { suspected: "疑似重复案件", dismissed: "已排除重复", linked: "已认定重复" }[data.status];
      box.appendChild(el("h2", {}, [el("span", { class: "similar duplicate", text: "重复" }), document.createTextNode(title)]));
      var list = el("ul", { class: "small" });
      (data.duplicate_of ? [data.duplicate_of] : data.duplicates).forEach(function (d) {
        var item = el("li", {}, [el("a", { href: "#", text: d.number, onclick: function (event) { event.preventDefault(); selectCase(d.id); } }),
          document.createTextNode(" " + d.category.name + " · 网格 " + d.unit_grid_code + " · 结案 " + when(d.closed_at))]);
        if (data.may_decide) {
          item.appendChild(el("button", { type: "button", "data-link-duplicate": String(d.id), text: "认定重复",
            onclick: function () {
              api("/api/v1/cases/" + c.id + "/actions/link_duplicate", { body: { version: c.version, duplicate: d.id } })
                .then(function () { toast("已认定为 " + d.number + " 的重复案件，可继续立案"); loadList(); selectCase(c.id); })
                .catch(function (error) { toast(error.message); });
            } }));
        }
        list.appendChild(item);
      });
      if (!list.children.length) { list.appendChild(el("li", { text: "重复案件不在您的范围内" })); }
      box.appendChild(list);
      if (data.may_decide && c.actions.indexOf("request_supplement") >= 0) {
        /* 5.2.4.3: the inspector's report was wrong (e.g. the location): back to them as 补采. */
        box.appendChild(el("button", { type: "button", "data-wrong-report": "1", text: "采集有误，退回补采",
          onclick: function () { actionForm(c, "request_supplement"); } }));
      }
      if (data.may_unlink) {
        /* 5.2.4.4: a department's appeal upheld (after the location was corrected). */
        var why = el("textarea", { id: "unlink-duplicate-reason", rows: "2", placeholder: "撤销理由（如：部门申诉成立，位置已更正）" });
        box.appendChild(el("label", { for: "unlink-duplicate-reason", class: "small", text: "撤销重复认定" }));
        box.appendChild(why);
        box.appendChild(el("button", { type: "button", "data-unlink-duplicate": "1", text: "撤销重复认定",
          onclick: function () {
            api("/api/v1/cases/" + c.id + "/actions/unlink_duplicate", { body: { version: c.version, opinion: why.value } })
              .then(function () { toast("已撤销重复认定"); loadList(); selectCase(c.id); })
              .catch(function (error) { toast(error.message); });
          } }));
      }
      if (data.may_decide) {
        var reason = el("textarea", { id: "dismiss-duplicate-reason", rows: "2", placeholder: "排除理由" });
        box.appendChild(el("label", { for: "dismiss-duplicate-reason", class: "small", text: "不是重复（排除后可立案）" }));
        box.appendChild(reason);
        box.appendChild(el("button", { type: "button", "data-dismiss-duplicate": "1", text: "排除重复",
          onclick: function () {
            api("/api/v1/cases/" + c.id + "/actions/dismiss_duplicate", { body: { version: c.version, opinion: reason.value } })
              .then(function () { toast("已排除重复，可以立案"); selectCase(c.id); })
              .catch(function (error) { toast(error.message); });
          } }));
      }
    }).catch(function (error) { toast(error.message); });
  }

  /* --- around the case (周边): what lies within 500 m, nearest first, and 派最近监督员 ------ */
  var NEARBY_KINDS = [["cases", "案件"], ["inspectors", "监督员"], ["vehicles", "车辆"], ["components", "部件"]];
  function nearbySection(c, detail) {
    var box = el("section", { class: "nearby" }, [el("h2", { text: "周边（500 米内）" })]);
    var task = c.actions.indexOf("request_verify") >= 0 ? "核实" : (c.actions.indexOf("request_check") >= 0 ? "核查" : "");
    if (task) {
      box.appendChild(el("button", { type: "button", "data-send-nearest": "1", text: "派最近监督员",
        title: "把" + task + "任务派给按路网距离最近的在线监督员",
        onclick: function (e) {
          e.currentTarget.disabled = true;
          api("/api/v1/cases/" + c.id + "/send-nearest", { body: { version: c.version } }).then(function (d) {
            var i = d.inspector, far = i.road_m !== null ? "路网 " + Math.round(i.road_m) : "直线 " + Math.round(i.straight_m);
            toast(task + "任务已派给 " + i.name + "（" + far + " 米）");
            selectCase(c.id);
          }).catch(function (error) { toast(error.message); selectCase(c.id); });
        } }));
    }
    detail.appendChild(box);
    api("/api/v1/cases/" + c.id + "/nearby?radius=500&limit=5").then(function (data) {
      NEARBY_KINDS.forEach(function (kind) {
        var items = data[kind[0]] || [];
        var list = el("ul", { class: "small", "data-nearby": kind[0] });
        items.forEach(function (n) {
          var label = kind[0] === "cases" ? el("a", { href: "#", text: n.number, onclick: function (event) { event.preventDefault(); selectCase(n.id); } })
            : document.createTextNode(n.name || n.code);
          var more = kind[0] === "cases" ? n.category.name + " · " + n.state_label
            : (n.status === "online" ? "在线" : n.status === "offline" ? "离线" : n.status_label || "");
          list.appendChild(el("li", {}, [label, document.createTextNode(" " + more + " · " + Math.round(n.metres) + " 米")]));
        });
        if (!items.length) { list.appendChild(el("li", { text: "无" })); }
        box.appendChild(el("div", { class: "small", text: kind[1] + "（" + items.length + "）" }));
        box.appendChild(list);
      });
    }).catch(function (error) { toast(error.message); });
  }

  /* --- field work: tasks (核实, 核查, 补采), self-handling (自行处置), rework reasons ------- */
  var MEDIA_STAGES = { report: "上报", handling: "处置", check: "核查", supplement: "补采", self_handled: "处置后" };
  var TASK_REQUESTS = { request_verify: "核实", request_check: "核查", request_supplement: "补采" };

  /* Photos by stage (a self-handled case's report photos are the ones before handling), the
     reason of the last rework with the failed check's opinion, and the case's tasks. */
  function fieldDetail(c, events, media, detail) {
    if (c.self_handled) { detail.appendChild(el("p", { class: "small self-handled", text: "自行处置案件（监督员现场已处置）" })); }
    var reworks = events.filter(function (e) { return e.action === "rework"; });
    if (reworks.length) {
      var last = reworks[reworks.length - 1];
      detail.appendChild(el("p", { class: "rework-reason", text: "返工原因：" + last.opinion +
        (last.details && last.details.check_opinion ? "（核查意见：" + last.details.check_opinion + "）" : "") }));
    }
    var stages = {};
    media.forEach(function (m) {
      if (m.content_type.indexOf("image/") === 0) { (stages[m.stage] = stages[m.stage] || []).push(m); }
    });
    Object.keys(stages).forEach(function (stage) {
      var caption = stage === "report" && c.self_handled ? "处置前" : (MEDIA_STAGES[stage] || stage);
      var photos = el("div", { class: "photos", "data-stage": stage }, [el("div", { class: "small", text: caption + "照片" })]);
      stages[stage].forEach(function (m) { photos.appendChild(el("img", { src: m.url, alt: caption + "照片" })); });
      detail.appendChild(photos);
    });
    var holder = el("div", { class: "tasks" });
    detail.appendChild(holder);
    api("/api/v1/cases/" + c.id + "/tasks").then(function (data) {
      if (!data.tasks.length) { return; }
      var list = el("ul", { class: "small" });
      data.tasks.forEach(function (t) {
        var state = t.done_at ? "已完成" + (t.overdue ? "（超时）" : "") : (t.overdue ? "已超期" : "进行中");
        list.appendChild(el("li", { class: t.overdue && !t.done_at ? "dl-overdue" : "", "data-task": t.kind,
          text: t.kind_name + " · " + t.inspector + " · " + state + (t.deadline ? " · 时限 " + when(t.deadline) : "") +
            (t.note ? " · 要求：" + t.note : "") + (t.answer ? " · 回复：" + t.answer : "") }));
      });
      holder.appendChild(el("h2", { text: "任务" }));
      holder.appendChild(list);
    }).catch(function () { /* the detail stands without its tasks */ });
  }

  /* The inspector picker of a task request: the inspectors whose areas hold the case, the
     reporting inspector first; verification and check may leave it to the default. */
  function inspectorPicker(c, name, fields, extra) {
    var inspector = el("select", { name: "inspector", "aria-label": TASK_REQUESTS[name] + "人员" });
    if (name !== "request_supplement") { inspector.appendChild(el("option", { value: "", text: "默认（上报人或网格监督员）" })); }
    api("/api/v1/cases/" + c.id + "/inspectors").then(function (data) {
      data.inspectors.forEach(function (p) {
        inspector.appendChild(el("option", { value: String(p.id), text: p.name + (p.reporter ? "（上报人）" : "") }));
      });
    }).catch(function (error) { toast(error.message); });
    extra.inspector = function () { return inspector.value ? Number(inspector.value) : null; };
    fields.push(el("label", { text: TASK_REQUESTS[name] + "人员" }, [inspector]));
  }

  /* The supplement's photos, uploaded to the case's supplement stage before the answer. */
  function supplementFiles(c, fields) {
    var files = el("input", { type: "file", name: "photos", multiple: "multiple", accept: "image/*,video/*", "aria-label": "补采照片" });
    fields.push(el("label", { text: "补采照片" }, [files]));
    return function () {
      return Array.prototype.reduce.call(files.files, function (done, file) {
        return done.then(function () {
          var form = new FormData();
          form.append("file", file);
          return sendForm("/api/v1/cases/" + c.id + "/media", form);
        });
      }, Promise.resolve());
    };
  }

  /* A multipart POST (files), answered like `api`. */
  function sendForm(path, form) {
    return fetch(path, { method: "POST", credentials: "same-origin", body: form,
      headers: { "X-CSRFToken": cfg.csrfToken, Accept: "application/json" } }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = (data && data.error) || { message: "上传失败 (" + response.status + ")" };
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  /* The registration form's self-handling (自行处置) part, for inspectors: a problem fixed on
     the spot is reported with photos before and after handling (both required). */
  function selfHandledFields(source) {
    var box = el("input", { type: "checkbox", name: "self_handled" });
    var before = el("input", { type: "file", name: "before", multiple: "multiple", accept: "image/*,video/*", "aria-label": "处置前照片" });
    var after = el("input", { type: "file", name: "after", multiple: "multiple", accept: "image/*,video/*", "aria-label": "处置后照片" });
    var files = el("fieldset", { class: "self-handled-files" }, [el("legend", { text: "处置前、处置后照片均需上传" }),
      el("label", { text: "处置前照片" }, [before]), el("label", { text: "处置后照片" }, [after])]);
    files.hidden = true;
    box.addEventListener("change", function () {
      files.hidden = !box.checked;
      if (box.checked) { source.value = "inspector"; }
      source.disabled = box.checked;
    });
    var fields = can("cases.report") && !can("cases.accept")
      ? [el("label", { class: "inline" }, [box, document.createTextNode(" 自行处置（现场已处置）")]), files] : [];
    return {
      fields: fields,
      checked: function () { return box.checked; },
      send: function (body) {
        if (!before.files.length) { before.focus(); return Promise.reject({ message: "请上传处置前照片" }); }
        if (!after.files.length) { after.focus(); return Promise.reject({ message: "请上传处置后照片" }); }
        var form = new FormData();
        ["kind", "category", "level", "description", "address", "lon", "lat"].forEach(function (k) { form.append(k, String(body[k])); });
        Array.prototype.forEach.call(before.files, function (f) { form.append("before", f); });
        Array.prototype.forEach.call(after.files, function (f) { form.append("after", f); });
        return sendForm("/api/v1/cases/self-handled", form);
      }
    };
  }

  function actionForm(c, name) {
    if (name === "apply") { return applyForm(c); }
    var holder = $("#action-form");
    holder.textContent = "";
    var fields = [];
    var opinion = el("textarea", { name: "opinion", "aria-label": "意见", maxlength: "2000" });
    var extra = {};
    if (name === "register" || name === "close") {
      var condition = el("select", { name: "condition", required: "required", "aria-label": name === "register" ? "立案条件" : "结案条件" });
      minorOf(c.category.kind, c.category.code).then(function (minor) {
        var list = minor ? (name === "register" ? minor.register_conditions : minor.close_conditions) : [];
        list.forEach(function (k) { condition.appendChild(el("option", { value: String(k.id), text: k.text })); });
      });
      extra.condition = function () { return condition.value ? Number(condition.value) : null; };
      fields.push(el("label", { text: name === "register" ? "立案条件" : "结案条件" }, [condition]));
    }
    if (name === "dispatch" || name === "redispatch" || (name === "rework" && c.dispatch_mode === "parallel")) {
      dispatchFields(c, name, fields, extra, opinion);
    }
    if (name === "callback") {
      var result = el("select", { name: "result", "aria-label": "回访结果" }, [
        el("option", { value: "reached", text: "已联系" }), el("option", { value: "not_reached", text: "未联系上" }),
        el("option", { value: "refused", text: "拒绝回访" })]);
      var satisfaction = el("select", { name: "satisfaction", "aria-label": "满意度" }, [
        el("option", { value: "satisfied", text: "满意" }), el("option", { value: "basically_satisfied", text: "基本满意" }),
        el("option", { value: "dissatisfied", text: "不满意" })]);
      result.addEventListener("change", function () { satisfaction.disabled = result.value !== "reached"; });
      extra.result = function () { return result.value; };
      extra.satisfaction = function () { return result.value === "reached" ? satisfaction.value : ""; };
      fields.push(el("label", { text: "回访结果" }, [result]), el("label", { text: "满意度" }, [satisfaction]));
    }
    var upload = null;
    if (TASK_REQUESTS[name]) { inspectorPicker(c, name, fields, extra); }
    if (name === "supplement") { upload = supplementFiles(c, fields); }
    if (name === "verify" || name === "check") {
      var yes = el("select", { name: "result", "aria-label": "结果" }, [el("option", { value: "true", text: name === "verify" ? "属实" : "通过" }),
        el("option", { value: "false", text: name === "verify" ? "不属实" : "不通过" })]);
      extra[name === "verify" ? "valid" : "passed"] = function () { return yes.value === "true"; };
      fields.push(el("label", { text: "结果" }, [yes]));
    }
    var phrases = phraseBox(name, opinion);
    var message = el("p", { class: "error", role: "alert" });
    var form = el("form", { onsubmit: function (e) {
      e.preventDefault();
      var body = { version: c.version, opinion: opinion.value };
      Object.keys(extra).forEach(function (k) { body[k] = extra[k](); });
      var path = { release: "/release", callback: "/callback" }[name];
      path = "/api/v1/cases/" + c.id + (path || "/actions/" + name);
      (upload ? upload() : Promise.resolve()).then(function () { return api(path, { body: body }); }).then(function (updated) {
        /* a call-back answers with the call-back, the other actions with the case */
        toast((ACTION_NAMES[name] || name) + "：" + c.number + (updated.state_name ? " → " + updated.state_name : " 已记录"));
        loadBoxes(); loadList(); selectCase(c.id);
      }).catch(function (error) {
        message.textContent = error.message + (error.status === 409 && error.current ? "（当前：" + (STATE_NAMES[error.current.state] || error.current.state) + "）" : "");
        if (error.status === 409) { selectCase(c.id); }
      });
    } }, fields.concat([el("label", { text: "意见" }, [opinion]), phrases, message,
      el("button", { type: "submit", class: "primary", text: "确认" + (ACTION_NAMES[name] || name) })]));
    holder.appendChild(form);
    (fields.length ? form.querySelector("select, input") : opinion).focus();
  }


  /* --- dispatch modes (派遣方式): mode, departments, assisting, one-click; progress --------- */
  var DISPATCH_MODES = [["normal", "普通派遣"], ["forced", "强制派遣"], ["parallel", "并行派遣"], ["multi", "多部门派遣"]];
  ACTION_NAMES.redispatch = "改派";

  /* Checkboxes of departments (keyboard-usable: each a labelled input); gives the chosen codes. */
  function departmentChecks(name, legend, list, checked) {
    var box = el("fieldset", { class: "dept-checks", "data-field": name }, [el("legend", { text: legend })]);
    list.forEach(function (d) {
      box.appendChild(el("label", { class: "check" }, [
        el("input", Object.assign({ type: "checkbox", name: name, value: d.code }, checked.indexOf(d.code) >= 0 ? { checked: "checked" } : {})),
        document.createTextNode(d.name)]));
    });
    return { node: box, value: function () {
      return Array.prototype.map.call(box.querySelectorAll("input:checked"), function (i) { return i.value; });
    } };
  }

  /* The dispatch form's fields: the mode; one department (the manual's first) for normal and
     forced, several for parallel and multi; assisting departments; a one-click button when
     the manual names a department. A re-dispatch picks one department and the mode; a rework
     of a parallel case picks the departments to send back. */
  function dispatchFields(c, name, fields, extra, opinion) {
    if (name === "rework") {
      var holder = el("div");
      fields.push(holder);
      var picked = function () { return []; };
      api("/api/v1/cases/" + c.id + "/dispatches").then(function (data) {
        var shares = data.departments.map(function (s) { return s.department; });
        var checks = departmentChecks("departments", "返工部门（默认全部）", shares, shares.map(function (d) { return d.code; }));
        holder.appendChild(checks.node);
        picked = checks.value;
      });
      extra.departments = function () { return picked(); };
      return;
    }
    var mode = el("select", { name: "mode", "aria-label": "派遣方式" });
    DISPATCH_MODES.filter(function (m) { return name === "dispatch" || m[0] === "normal" || m[0] === "forced"; })
      .forEach(function (m) { mode.appendChild(el("option", { value: m[0], text: m[1] })); });
    var department = el("select", { name: "department", "aria-label": "处置部门" });
    var single = el("label", { text: "处置部门" }, [department]);
    var several = el("div"), helpers = el("div"), quick = el("div", { class: "one-click" });
    var chosen = { many: function () { return []; }, assisting: function () { return []; } };
    fields.push(el("label", { text: "派遣方式" }, [mode]), single, several, helpers, quick);
    Promise.all([departments(), api("/api/v1/cases/" + c.id + "/dispatches")]).then(function (answers) {
      var recommended = answers[1].recommended;
      var top = recommended && name === "dispatch" ? recommended.department.code : null;
      var list = answers[0].slice().sort(function (a, b) { return (b.code === top) - (a.code === top); });
      var taken = answers[1].departments.map(function (share) { return share.department.code; });
      list.forEach(function (d) {
        if (name === "redispatch" && c.department && d.code === c.department.code) { return; }
        if (name === "redispatch" && taken.indexOf(d.code) >= 0) { return; }
        department.appendChild(el("option", { value: d.code, text: d.name + (d.code === top ? "（推荐）" : "") }));
      });
      if (name === "redispatch" && c.dispatch_mode === "parallel") {
        /* a parallel case: which department's share moves (those still handling) */
        var replace = el("select", { name: "replace", "aria-label": "改派哪个部门" });
        answers[1].departments.filter(function (share) { return !share.fed_back_at; }).forEach(function (share) {
          replace.appendChild(el("option", { value: share.department.code, text: share.department.name }));
        });
        several.appendChild(el("label", { text: "改派哪个部门" }, [replace]));
        several.hidden = false;
        mode.closest("label").hidden = true;
        extra.replace = function () { return replace.value || null; };
      }
      if (name !== "dispatch") { return; }
      var many = departmentChecks("departments", "处置部门（多选）", list, []);
      several.appendChild(many.node);
      chosen.many = many.value;
      var assisting = departmentChecks("assisting", "协办部门", list, recommended ? recommended.assisting.map(function (d) { return d.code; }) : []);
      helpers.appendChild(assisting.node);
      chosen.assisting = assisting.value;
      if (recommended) {
        quick.appendChild(el("button", { type: "button", class: "one-click-button", text: "一键派遣：" + recommended.department.name +
          (recommended.assisting.length ? "（协办 " + recommended.assisting.map(function (d) { return d.name; }).join("、") + "）" : ""),
          onclick: function () {
            api("/api/v1/cases/" + c.id + "/actions/dispatch", { body: { version: c.version, one_click: true, opinion: opinion.value } })
              .then(function (updated) {
                toast("一键派遣：" + c.number + " → " + updated.state_name);
                loadBoxes(); loadList(); selectCase(c.id);
              }).catch(function (error) { toast(error.message); });
          } }));
      }
      showMode();
    });
    function showMode() {
      if (name !== "dispatch") { helpers.hidden = true; return; }
      var multiple = mode.value === "parallel" || mode.value === "multi";
      single.hidden = multiple;
      several.hidden = !multiple;
      helpers.hidden = multiple;
    }
    mode.addEventListener("change", showMode);
    showMode();
    extra.mode = function () { return mode.value; };
    extra.department = function () { return mode.value === "parallel" || mode.value === "multi" ? null : department.value || null; };
    if (name === "dispatch") {
      extra.departments = function () { return mode.value === "parallel" || mode.value === "multi" ? chosen.many() : []; };
      extra.assisting = function () { return mode.value === "parallel" || mode.value === "multi" ? [] : chosen.assisting(); };
    }
  }

  /* Per-department progress (派遣进度) of a parallel case (each department's deadline and
     feedback), the department cases of a multi-department one, and the assisting departments. */
  function dispatchProgress(c, detail) {
    if (c.dispatch_mode === "normal" && !c.parent) { return; }
    var holder = el("div", { class: "dispatch-progress" });
    detail.appendChild(holder);
    api("/api/v1/cases/" + c.id + "/dispatches").then(function (data) {
      holder.appendChild(el("h2", { text: "派遣进度 · " + data.mode_name }));
      if (data.parent) { holder.appendChild(el("p", { class: "small", text: "多部门派遣的部门案件，主案件 " + data.parent.number })); }
      var rows = data.departments.map(function (s) {
        var state = s.fed_back_at ? "已反馈 " + when(s.fed_back_at) + (s.overdue ? "（超期）" : "") : "处置中";
        return [s.department.name, state, s.deadline ? when(s.deadline) : "—", s.deadline_state, s.feedback || ""];
      }).concat(data.children.map(function (k) {
        return [(k.department ? k.department.name : "—") + " · " + k.number, k.state_name, k.deadline ? when(k.deadline) : "—", k.deadline_state, ""];
      }));
      if (rows.length) {
        var table = el("table", { class: "small" }, [el("thead", {}, [el("tr", {}, ["部门", "进度", "时限", "时限状态", "反馈意见"].map(function (t) { return el("th", { text: t }); }))])]);
        var body = el("tbody");
        rows.forEach(function (r) {
          body.appendChild(el("tr", { class: r[3] === "overdue" ? "dl-overdue" : r[3] === "warning" ? "dl-warning" : "" },
            [r[0], r[1], r[2], { overdue: "超期", warning: "预警", normal: "正常", none: "" }[r[3]] || "", r[4]].map(function (t) { return el("td", { text: t }); })));
        });
        table.appendChild(body);
        holder.appendChild(table);
      }
      if (data.assisting.length) {
        holder.appendChild(el("p", { class: "small", text: "协办部门：" + data.assisting.map(function (d) { return d.name; }).join("、") }));
      }
    }).catch(function () { /* the detail stands without its progress */ });
  }

  var VERBS = { apply: "申请", approve: "批准", deny: "驳回", withdraw: "撤回", answer: "审批" };
  var KIND_WORDS = { return: "回退", extension: "延期", hold: "挂账", void: "作废", transfer: "转办", assist: "协办" };
  function eventName(action) {
    if (action === "report") { return "上报"; }
    if (ACTION_NAMES[action]) { return ACTION_NAMES[action]; }
    var parts = action.split("_");
    if (VERBS[parts[0]] && KIND_WORDS[parts[1]]) { return VERBS[parts[0]] + KIND_WORDS[parts[1]]; }
    return { edit: "修改", correct_placement: "立案修正", release_hold: "解除挂账", "return": "回退",
      supervise: "督办", reply_supervision: "督办回复", annotate: "批注", schedule_dispatch: "定时派遣",
      edit_scheduled_dispatch: "修改定时派遣", cancel_scheduled_dispatch: "取消定时派遣", redispatch: "改派" }[action] || action;
  }

  /* --- supervision (督办), annotations (批注), urgent (急件) ----------------------------------- */
  var FIELD_NAMES = { description: "描述", address: "地址", level: "等级", urgent: "急件", component_code: "部件编码",
    custom_deadline: "处置时限" };
  function editedFields(e) {
    var fields = e.action === "edit" && e.details && e.details.fields;
    return fields && fields.length ? "（" + fields.map(function (f) { return FIELD_NAMES[f] || f; }).join("、") + "）" : "";
  }
  var CENTRE = ["cases.accept", "cases.register", "cases.dispatch", "cases.supervise"];
  var CLOSED_STATES = ["closed", "invalid", "not_registered"];
  function consoleActions(c) {
    var buttons = [];
    if (can("cases.supervise") && c.state === "handling") {
      buttons.push(el("button", { type: "button", "data-action": "supervise", text: "督办", onclick: function () { superviseForm(c); } }));
    }
    if (CENTRE.some(can)) {
      buttons.push(el("button", { type: "button", "data-action": "annotate", text: "批注", onclick: function () { annotateForm(c); } }));
    }
    if ((can("cases.accept") || can("cases.register")) && CLOSED_STATES.indexOf(c.state) < 0) {
      buttons.push(el("button", { type: "button", "data-action": "urgent", text: c.urgent ? "取消急件" : "设为急件", onclick: function () {
        api("/api/v1/cases/" + c.id, { method: "PATCH", body: { version: c.version, urgent: !c.urgent } }).then(function () {
          toast(c.urgent ? "已取消急件" : "已设为急件"); loadList(); selectCase(c.id);
        }).catch(function (error) { toast(error.message); if (error.status === 409) { selectCase(c.id); } });
      } }));
    }
    return buttons;
  }

  /* A short form in #action-form: a text box with its phrases, posted to `path`. */
  function noteForm(title, key, label, name, path, bodyOf, done, more) {
    var holder = $("#action-form");
    holder.textContent = "";
    var text = el("textarea", { name: name, required: "required", maxlength: "2000", "aria-label": label });
    var message = el("p", { class: "error", role: "alert" });
    holder.appendChild(el("form", { onsubmit: function (e) {
      e.preventDefault();
      api(path, { body: bodyOf(text.value) }).then(done).catch(function (error) { message.textContent = error.message; });
    } }, [el("h2", { text: title }), el("label", { text: label }, [text]), phraseBox(key, text)].concat(more || [], [message,
      el("button", { type: "submit", class: "primary", text: "提交" + title })])));
    text.focus();
  }

  function localInput(date) {
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function superviseForm(c) {
    var by = el("input", { type: "datetime-local", name: "deadline", required: "required", "aria-label": "回复期限",
      value: localInput(new Date(Date.now() + 4 * 3600000)) });
    noteForm("督办", "supervise", "督办意见", "note", "/api/v1/cases/" + c.id + "/supervisions",
      function (note) { return { note: note, deadline: new Date(by.value).toISOString() }; },
      function () { toast("已督办 " + c.number); selectCase(c.id); }, [el("label", { text: "回复期限" }, [by])]);
  }

  function annotateForm(c) {
    noteForm("批注", "annotate", "批注内容", "note", "/api/v1/cases/" + c.id + "/annotations",
      function (note) { return { note: note }; }, function () { toast("已批注 " + c.number); selectCase(c.id); });
  }

  function replyForm(c, s) {
    noteForm("督办回复", "reply_supervision", "回复内容", "reply", "/api/v1/supervisions/" + s.id + "/reply",
      function (reply) { return { reply: reply }; }, function () { toast("已回复督办 " + c.number); selectCase(c.id); });
  }

  /* The case's supervisions with their replies; the supervised department answers from here. */
  function supervisionList(c, supervisions) {
    var list = el("ol", { class: "supervisions" });
    supervisions.forEach(function (s) {
      var replied = s.replied_at
        ? el("div", { class: "reply" }, [el("div", { text: "回复：" + s.reply }), el("div", { class: "small", text: when(s.replied_at) + " · " + s.replied_by })])
        : el("div", { class: "small pending", text: "未回复 · 请于 " + when(s.deadline) + " 前回复" });
      list.appendChild(el("li", { "data-supervision": String(s.id) }, [
        el("div", { text: s.note }),
        el("div", { class: "small", text: when(s.created_at) + " · " + (s.by || "") + " 督办 " + s.department.name }),
        replied,
        !s.replied_at && can("cases.handle") ? el("button", { type: "button", "data-action": "reply_supervision", text: "回复督办",
          onclick: function () { replyForm(c, s); } }) : null
      ]));
    });
    return el("section", { class: "supervision" }, [el("h2", { text: "督办（" + supervisions.length + "）" }), list]);
  }

  /* An application (申请): return, extension, hold, void, transfer, assistance. */
  function applyForm(c) {
    var holder = $("#action-form");
    holder.textContent = "";
    var kind = el("select", { name: "kind", "aria-label": "申请类型" });
    Object.keys(KINDS).forEach(function (k) { kind.appendChild(el("option", { value: k, text: KINDS[k] })); });
    var hours = el("input", { name: "amount", type: "number", min: "0.5", step: "0.5", value: "8", "aria-label": "延期工作时" });
    var holdMode = el("select", { name: "hold_mode", "aria-label": "挂账方式" }, [
      el("option", { value: "hours", text: "挂账N小时" }), el("option", { value: "none", text: "不限期（手动解除）" })]);
    var holdHours = el("input", { name: "hold_hours", type: "number", min: "0.5", step: "0.5", value: "24", "aria-label": "挂账小时" });
    var department = el("select", { name: "department", "aria-label": "部门" });
    departments().then(function (list) {
      list.forEach(function (d) { department.appendChild(el("option", { value: d.code, text: d.name })); });
    });
    var rows = { extension: [el("label", { text: "延期（工作时）" }, [hours])],
      hold: [el("label", { text: "挂账方式" }, [holdMode]), el("label", { text: "挂账小时" }, [holdHours])],
      transfer: [el("label", { text: "转办至" }, [department])], assist: [el("label", { text: "协办部门" }, [department])] };
    var extra = el("div", { class: "apply-extra" });
    function showExtra() { extra.textContent = ""; (rows[kind.value] || []).forEach(function (r) { extra.appendChild(r); }); }
    kind.addEventListener("change", showExtra);
    showExtra();
    var reason = el("textarea", { name: "reason", required: "required", maxlength: "2000", "aria-label": "申请理由" });
    var message = el("p", { class: "error", role: "alert" });
    var form = el("form", { onsubmit: function (e) {
      e.preventDefault();
      var body = { version: c.version, kind: kind.value, reason: reason.value };
      if (kind.value === "extension") { body.amount = hours.value; body.unit = "working_hours"; }
      if (kind.value === "hold") { body.hold_mode = holdMode.value; if (holdMode.value === "hours") { body.hold_hours = holdHours.value; } }
      if (kind.value === "transfer" || kind.value === "assist") { body.department = department.value; }
      api("/api/v1/cases/" + c.id + "/applications", { body: body }).then(function () {
        toast(KINDS[kind.value] + "：已提交"); loadApprovals(); selectCase(c.id);
      }).catch(function (error) { message.textContent = error.message; });
    } }, [el("label", { text: "申请类型" }, [kind]), extra, el("label", { text: "申请理由" }, [reason]), phraseBox("apply", reason), message,
      el("button", { type: "submit", class: "primary", text: "提交申请" })]);
    holder.appendChild(form);
    kind.focus();
  }

  /* Applications waiting for the caller's answer (答复授权), as a box of their own. */
  var approvals = [];
  function loadApprovals() {
    return api("/api/v1/applications?state=pending").then(function (data) {
      approvals = data.applications;
      var item = $("#approvals-box");
      if (!item) {
        item = el("li", { id: "approvals-box" });
        $("#box-list").parentNode.appendChild(el("ul", { id: "approval-list", class: "box-extra" }, [item]));
      }
      item.textContent = "";
      item.appendChild(el("button", { type: "button", "data-box": "approvals", onclick: showApprovals }, [
        el("span", { text: "待审批申请" }), el("span", { class: "count", text: String(approvals.length) })]));
    }).catch(function () { /* positions without applications */ });
  }

  function showApprovals() {
    var body = $("#cases tbody");
    body.textContent = "";
    $("#list-summary").textContent = "待审批申请 " + approvals.length + " 件";
    approvals.forEach(function (a) {
      body.appendChild(el("tr", { tabindex: "0", "data-application": String(a.id),
        onclick: function () { answerForm(a); }, onkeydown: function (e) { if (e.key === "Enter") { answerForm(a); } } }, [
        el("td", {}, [el("div", { class: "num", text: a.case_number })]),
        el("td", {}, [el("div", { text: a.kind_name }), el("div", { class: "small", text: a.reason.slice(0, 28) })]),
        el("td", { class: "small", text: a.applicant }),
        el("td", {}, [el("span", { class: "state", text: "第" + (a.next ? a.next.level : "") + "级" })]),
        el("td", { class: "small", text: when(a.created_at) })
      ]));
    });
  }

  function answerForm(a) {
    selectCase(a.case);
    setTimeout(function () {
      var holder = $("#action-form");
      if (!holder) { return; }
      holder.textContent = "";
      var decision = el("select", { name: "decision", "aria-label": "审批结果" }, [
        el("option", { value: "approve", text: "同意" }), el("option", { value: "deny", text: "不同意" })]);
      var opinion = el("textarea", { name: "opinion", "aria-label": "审批意见", maxlength: "2000" });
      var forbid = el("input", { type: "checkbox", name: "forbid_reapply" });
      var message = el("p", { class: "error", role: "alert" });
      var requested = a.requested.amount ? "（申请 " + a.requested.amount + " 工作时）" : a.requested.hold_hours ? "（挂账 " + a.requested.hold_hours + " 小时）" : "";
      holder.appendChild(el("form", { onsubmit: function (e) {
        e.preventDefault();
        api("/api/v1/applications/" + a.id + "/answer", { body: { decision: decision.value, opinion: opinion.value,
          forbid_reapply: forbid.checked } }).then(function () {
          toast(a.kind_name + "：已" + (decision.value === "approve" ? "同意" : "不同意"));
          loadApprovals().then(showApprovals); loadBoxes(); selectCase(a.case);
        }).catch(function (error) { message.textContent = error.message; });
      } }, [el("h2", { text: a.kind_name + requested + " · " + a.applicant }), el("p", { class: "small", text: a.reason }),
        el("label", { text: "审批结果" }, [decision]), el("label", { text: "审批意见" }, [opinion]), phraseBox("answer", opinion),
        el("label", { class: "inline" }, [forbid, document.createTextNode(" 不同意时禁止再次申请")]), message,
        el("button", { type: "submit", class: "primary", text: "提交审批" })]));
      decision.focus();
    }, 400);
  }


  /* Notices (通知): the caller's notifications — cases dispatched to their department, tasks
     sent to them, answers to their applications — with the unread count on the bell. */
  function loadNotices() {
    return api("/api/v1/notifications?limit=30").then(function (data) {
      var count = $("#bell-count");
      count.textContent = String(data.unread);
      count.classList.toggle("on", data.unread > 0);
      var panel = $("#notices");
      panel.textContent = "";
      if (!data.notifications.length) { panel.appendChild(el("p", { class: "small all-read", text: "暂无通知" })); }
      data.notifications.forEach(function (n) {
        panel.appendChild(el("button", { type: "button", class: "notice" + (n.read_at ? "" : " unread"), "data-notice": String(n.id),
          onclick: function () {
            api("/api/v1/notifications/read", { body: { ids: [n.id] } }).then(loadNotices);
            togglePanel(false);
            if (n.case) { selectCase(n.case.id); }
          } }, [el("div", { text: n.title }), el("div", { class: "small", text: n.body + " · " + when(n.created_at) })]));
      });
      if (data.unread) {
        panel.appendChild(el("button", { type: "button", class: "all-read", text: "全部标为已读", onclick: function () {
          api("/api/v1/notifications/read", { body: { all: true } }).then(loadNotices);
        } }));
      }
    }).catch(function () { /* positions without notices */ });
  }
  function togglePanel(open) {
    var panel = $("#notices");
    panel.hidden = !open;
    $("#bell").setAttribute("aria-expanded", String(open));
    if (open) { var first = panel.querySelector("button"); if (first) { first.focus(); } }
  }
  $("#bell").addEventListener("click", function () { togglePanel($("#notices").hidden); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { togglePanel(false); } });

  /* --- live arrivals -------------------------------------------------------------------- */
  var audio = null;
  function chime() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.05;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.15);
    } catch (ignored) { /* no sound before the first user gesture */ }
  }

  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(cfg.streamUrl, { withCredentials: true });
    source.addEventListener("open", function () { $("#live").className = "live on"; });
    source.addEventListener("error", function () { $("#live").className = "live off"; });
    var pending = null;
    source.addEventListener("case", function (message) {
      var event = JSON.parse(message.data);
      clearTimeout(pending);
      pending = setTimeout(function () {   /* a burst of events refreshes once */
        var before = JSON.stringify(view.counts);
        loadApprovals();
        setTimeout(loadNotices, 1500);  /* delivery runs on the worker just after the commit */
        loadBoxes().then(function () {
          var fresh = {}; fresh[event.case] = true;
          loadList(fresh);
          if (JSON.stringify(view.counts) !== before && event.action !== "edit") { chime(); }
        });
        if (event.case === view.selected) {
          var open = $("#action-form");
          if (open && open.children.length) {  /* never wipe a form being filled in */
            if (!$("#stale-note")) { open.prepend(el("p", { id: "stale-note", class: "error", text: "案件已被更新，提交前请确认（提交时将按最新状态校验）" })); }
          } else { selectCase(event.case, true); }
        }
      }, 300);
    });
  }

  /* Printing the list (打印): the PDF of the current filters opens in a new tab; a long list is a
     job on the server whose file opens once written; above the limit the answer says so. */
  function printList() {
    var params = new URLSearchParams(listQuery());
    params.delete("limit"); params.delete("offset");
    var tab = window.open("", "_blank");
    var show = function (url) { if (tab) { tab.location = url; } else { window.location = url; } };
    var fail = function (error) { if (tab) { tab.close(); } toast(error.message); };
    fetch("/api/v1/cases/print.pdf?" + params.toString(), { credentials: "same-origin" }).then(function (response) {
      if (response.status === 200) { return response.blob().then(function (blob) { show(URL.createObjectURL(blob)); }); }
      return response.json().then(function (data) {
        if (response.status === 413) { throw { message: "符合条件的案件超过打印上限，请缩小筛选范围或导出 Excel" }; }
        if (response.status !== 202) { throw (data && data.error) || { message: "打印失败 (" + response.status + ")" }; }
        toast("案件较多，正在生成打印文件（共 " + data.rows_total + " 件）");
        (function poll() {
          api(data.status_url).then(function (job) {
            if (job.state === "succeeded") { show("/api/v1/cases/prints/" + job.id); }
            else if (job.state === "failed") { fail({ message: "打印失败" }); }
            else { setTimeout(poll, 1000); }
          }).catch(fail);
        })();
      });
    }).catch(fail);
  }

  /* --- layout, filters, keys ------------------------------------------------------------ */
  var layoutKey = "citygrid.console.layout." + cfg.user;
  function setLayout(value) {
    document.body.className = "layout-" + value;
    $("#layout").value = value;
    try { localStorage.setItem(layoutKey, value); } catch (ignored) { /* private mode */ }
    setTimeout(function () { if (map) { map.resize(); } }, 50);
  }
  $("#layout").addEventListener("change", function (e) { setLayout(e.target.value); });
  setLayout((function () { try { return localStorage.getItem(layoutKey) || "full"; } catch (e) { return "full"; } })());
  Object.keys(SOURCES).forEach(function (k) { $("#f-source").appendChild(el("option", { value: k, text: SOURCES[k] })); });
  $("#filters").addEventListener("submit", function (e) { e.preventDefault(); view.page = 0; loadList(); });
  $("#print-list").addEventListener("click", printList);
  $("#prev").addEventListener("click", function () { view.page -= 1; loadList(); });
  $("#next").addEventListener("click", function () { view.page += 1; loadList(); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement.tagName !== "INPUT" && document.activeElement.tagName !== "TEXTAREA") {
      e.preventDefault(); $("#q").focus();
    }
  });
  $("#who").textContent = cfg.name + (cfg.positions.length ? "（" + cfg.positions.join("、") + "）" : "");
  setInterval(function () { if (view.cases.length) { loadList(); } loadNotices(); }, 60000);  /* time left moves on */

  loadBoxes().then(function () { return loadList(); });
  loadDuty();
  loadApprovals();
  loadNotices();
  listen();
})();
