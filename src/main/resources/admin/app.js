// The admin page: plain JavaScript, no library. Everything it shows comes from the management API on this
// origin, with the session cookie; every value is put in the page as text, never as HTML.
'use strict';

(() => {
    const POLL_MS = 2000;
    const WATCH_MS = 700;
    const STATS_RETRY_MS = 30000;
    const FINAL = new Set(['READY', 'FAILED', 'STOPPED', 'RETIRED']);

    const $ = (id) => document.getElementById(id);

    const page = {
        route: null,          // {view: 'overview'} or {view: 'model', name}
        loggedIn: false,
        timer: null,
        stats: null,          // the last GET /api/stats answer, or null
        statsMissing: false,  // /api/stats answered 404: ask again now and then only
        statsAskedAt: 0,
        model: null,          // the last GET /api/models/{name} answer
        modelName: null,
        tryEdited: false,
        trySending: false,
        eventsKey: '',
        logs: [],             // the model's own log lines shown, oldest first
        logSeq: 0,            // the last line's seq: only newer lines are asked for
        watches: [],          // uploads being watched: {id, model, version, state, error, steps}
        generation: 0,        // bumped on logout and route change, so late answers are dropped
    };

    // ---- DOM helpers -------------------------------------------------------------------------------------------

    function h(tag, attrs, ...children) {
        const el = document.createElement(tag);
        setAttrs(el, attrs);
        append(el, children);
        return el;
    }

    function svg(tag, attrs, ...children) {
        const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
        setAttrs(el, attrs);
        append(el, children);
        return el;
    }

    function setAttrs(el, attrs) {
        for (const [key, value] of Object.entries(attrs || {})) {
            if (value === null || value === undefined || value === false) {
                continue;
            }
            if (key === 'text') {
                el.textContent = value;
            } else if (key.startsWith('on')) {
                el.addEventListener(key.slice(2), value);
            } else {
                el.setAttribute(key === 'className' ? 'class' : key, value === true ? '' : String(value));
            }
        }
    }

    function append(el, children) {
        for (const child of children.flat()) {
            if (child !== null && child !== undefined && child !== false) {
                el.append(child instanceof Node ? child : String(child));
            }
        }
    }

    function show(id, visible) {
        $(id).hidden = !visible;
    }

    /** Rows keyed by an id: new ones are made, gone ones removed, the rest updated in place (focus survives). */
    function keyedRows(tbody, items, key, make, update) {
        const existing = new Map([...tbody.children].map((row) => [row.dataset.key, row]));
        let previous = null;
        for (const item of items) {
            const k = String(key(item));
            let row = existing.get(k);
            if (row) {
                existing.delete(k);
            } else {
                row = make(item);
                row.dataset.key = k;
            }
            update(row, item);
            const expected = previous ? previous.nextSibling : tbody.firstChild;
            if (expected !== row) {
                tbody.insertBefore(row, expected);
            }
            previous = row;
        }
        existing.forEach((row) => row.remove());
    }

    function setText(el, text) {
        const value = text === null || text === undefined ? '–' : String(text);
        if (el.textContent !== value) {
            el.textContent = value;
        }
    }

    function replaceChildren(el, ...children) {
        el.replaceChildren();
        append(el, children);
    }

    // ---- formatting --------------------------------------------------------------------------------------------

    function badge(state) {
        const word = state || 'NONE';
        return h('span', {className: 'state state-' + word.toLowerCase()}, h('span', {className: 'dot', 'aria-hidden': 'true'}), word);
    }

    function updateBadge(holder, state) {
        const word = state || 'NONE';
        if (holder.dataset.state !== word) {
            holder.dataset.state = word;
            replaceChildren(holder, badge(word));
        }
    }

    function health(line) {
        if (!line || line.state !== 'READY') {
            return {text: '–', className: 'health'};
        }
        return line.healthy
            ? {text: '✓ healthy', className: 'health health-ok'}
            : {text: '✗ not answering', className: 'health health-bad'};
    }

    function ms(value) {
        if (value === null || value === undefined || Number.isNaN(value)) {
            return '–';
        }
        if (value >= 1000) {
            return (value / 1000).toFixed(value >= 10000 ? 0 : 1) + ' s';
        }
        return (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) + ' ms';
    }

    function rate(value) {
        if (value === null || value === undefined) {
            return '–';
        }
        return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '');
    }

    function duration(seconds) {
        if (seconds === null || seconds === undefined) {
            return '–';
        }
        const s = Math.floor(seconds);
        if (s < 60) {
            return s + ' s';
        }
        const m = Math.floor(s / 60);
        if (m < 60) {
            return m + ' min ' + String(s % 60).padStart(2, '0') + ' s';
        }
        const hours = Math.floor(m / 60);
        if (hours < 48) {
            return hours + ' h ' + String(m % 60).padStart(2, '0') + ' min';
        }
        return Math.floor(hours / 24) + ' d ' + (hours % 24) + ' h';
    }

    /** How long the version has served: the server's own count when it keeps statistics, else since ready_at. */
    function uptime(line, stats) {
        if (!line || line.state !== 'READY') {
            return '–';
        }
        if (stats && typeof stats.uptime_s === 'number') {
            return duration(stats.uptime_s);
        }
        return line.ready_at ? duration(Math.max(0, (Date.now() - Date.parse(line.ready_at)) / 1000)) : '–';
    }

    function bytes(n) {
        if (n === null || n === undefined) {
            return '–';
        }
        const units = ['B', 'KB', 'MB', 'GB'];
        let value = n;
        let unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return (unit === 0 ? value : value.toFixed(value >= 10 ? 0 : 1)) + ' ' + units[unit];
    }

    function when(iso) {
        if (!iso) {
            return '–';
        }
        const d = new Date(iso);
        const pad = (n) => String(n).padStart(2, '0');
        return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' '
            + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    }

    function timeEl(iso) {
        return iso ? h('time', {datetime: iso, title: iso, text: when(iso)}) : '–';
    }

    // ---- talking to the server ---------------------------------------------------------------------------------

    class ApiError extends Error {
        constructor(status, message) {
            super(message);
            this.status = status;
        }
    }

    async function api(method, path, body) {
        const options = {method, headers: {Accept: 'application/json'}, credentials: 'same-origin'};
        if (body !== undefined) {
            options.headers['Content-Type'] = 'application/json';
            options.body = JSON.stringify(body);
        }
        let response;
        try {
            response = await fetch(path, options);
        } catch (e) {
            setLive(false);
            throw new ApiError(0, 'the server does not answer (' + e.message + ')');
        }
        setLive(true);
        const text = await response.text();
        let data = null;
        if (text) {
            try {
                data = JSON.parse(text);
            } catch (e) {
                data = text;
            }
        }
        if (response.status === 401 && path !== '/api/session') {
            sessionEnded(data && data.error);
        }
        if (!response.ok) {
            const message = data && data.error ? data.error : response.status + ' ' + response.statusText;
            throw new ApiError(response.status, message);
        }
        return data;
    }

    function setLive(ok) {
        const live = $('live');
        live.textContent = ok ? 'live' : 'offline, retrying';
        live.classList.toggle('offline', !ok);
    }

    function toast(text, isError) {
        const el = $('toast');
        el.textContent = text;
        el.className = 'toast visible' + (isError ? ' toast-error' : '');
        el.setAttribute('role', isError ? 'alert' : 'status');
        clearTimeout(toast.timer);
        toast.timer = setTimeout(() => el.classList.remove('visible'), isError ? 9000 : 4000);
    }

    // ---- login and logout --------------------------------------------------------------------------------------

    function showLogin(message) {
        page.loggedIn = false;
        page.generation++;
        clearTimeout(page.timer);
        show('nav', false);
        show('overview-view', false);
        show('model-view', false);
        show('login-view', true);
        $('login-message').textContent = message || '';
        $('token').focus();
    }

    function sessionEnded(message) {
        if (page.loggedIn) {
            showLogin('Your session has ended: log in again. ' + (message ? '(' + message + ')' : ''));
        }
    }

    async function login(event) {
        event.preventDefault();
        const field = $('token');
        $('login-message').textContent = '';
        try {
            await api('POST', '/api/session', {token: field.value});
            field.value = '';
            startApp();
        } catch (e) {
            field.select();
            $('login-message').textContent = e.status === 401
                ? 'Not logged in: ' + e.message + '.'
                : 'Could not log in: ' + e.message;
        }
    }

    async function logout() {
        try {
            await api('DELETE', '/api/session');
        } catch (e) {
            // Logged out either way: the page forgets the session.
        }
        page.watches = [];
        showLogin('Logged out.');
    }

    function startApp() {
        page.loggedIn = true;
        show('login-view', false);
        show('nav', true);
        route();
    }

    // ---- routing and polling -----------------------------------------------------------------------------------

    function parseRoute() {
        const match = /^#\/models\/([^/]+)$/.exec(location.hash);
        return match ? {view: 'model', name: decodeURIComponent(match[1])} : {view: 'overview'};
    }

    function route() {
        if (!page.loggedIn) {
            return;
        }
        page.route = parseRoute();
        page.generation++;
        show('overview-view', page.route.view === 'overview');
        show('model-view', page.route.view === 'model');
        if (page.route.view === 'model' && page.modelName !== page.route.name) {
            enterModel(page.route.name);
        }
        document.title = page.route.view === 'model' ? page.route.name + ' · deployer' : 'deployer';
        refresh();
    }

    async function refresh() {
        clearTimeout(page.timer);
        const generation = page.generation;
        try {
            await loadStats();
            if (page.route.view === 'overview') {
                await refreshOverview(generation);
            } else {
                await refreshModel(generation);
            }
        } catch (e) {
            if (e.status !== 401 && generation === page.generation) {
                console.warn('refresh failed', e);
            }
        }
        if (page.loggedIn && generation === page.generation) {
            // Hidden tabs ask less often; they catch up the moment they are shown.
            page.timer = setTimeout(refresh, document.hidden ? POLL_MS * 5 : POLL_MS);
        }
    }

    async function loadStats() {
        const now = Date.now();
        if (page.statsMissing && now - page.statsAskedAt < STATS_RETRY_MS) {
            return;
        }
        page.statsAskedAt = now;
        try {
            page.stats = await api('GET', '/api/stats');
            page.statsMissing = false;
        } catch (e) {
            if (e.status === 401) {
                throw e;
            }
            // No statistics on this server (or not now): the page shows "–" where they would be.
            page.stats = null;
            page.statsMissing = true;
        }
    }

    function statsOf(name) {
        const models = page.stats && page.stats.models;
        return models && typeof models === 'object' && models[name] ? models[name] : null;
    }

    // ---- overview ----------------------------------------------------------------------------------------------

    async function refreshOverview(generation) {
        const models = await api('GET', '/api/models');
        if (generation !== page.generation) {
            return;
        }
        renderOverview(models);
    }

    function renderOverview(models) {
        const count = (state) => models.filter((m) => m.state === state).length;
        const parts = [models.length + (models.length === 1 ? ' model' : ' models')];
        for (const state of ['READY', 'STARTING', 'FAILED', 'STOPPED']) {
            if (count(state) > 0) {
                parts.push(count(state) + ' ' + state.toLowerCase());
            }
        }
        $('summary').textContent = parts.join(' · ');
        show('no-models', models.length === 0);
        $('models-table').hidden = models.length === 0;
        keyedRows($('models-body'), models, (m) => m.name, makeModelRow, updateModelRow);
    }

    /** A process cell's child JVM (DESIGN 1.12): its pid, heap ceiling and resident memory. */
    function processText(m) {
        return 'pid ' + m.pid + ' · heap ' + (m.heap_mb ? m.heap_mb + ' MiB' : 'JVM default')
            + (m.rss_mb !== null && m.rss_mb !== undefined ? ' · RSS ' + m.rss_mb + ' MiB' : '');
    }

    function cell(label, ...children) {
        return h('td', {'data-label': label}, ...children);
    }

    function makeModelRow(m) {
        const link = h('a', {href: '#/models/' + encodeURIComponent(m.name), text: m.name});
        return h('tr', {},
            h('th', {scope: 'row', 'data-label': 'Model'}, link),
            cell('Version'), cell('State'), cell('Health'), cell('Port / URL'), cell('Uptime'),
            cell('Req/min', ''), cell('Err/min'), cell('p50'), cell('p99'), cell('Latency'));
    }

    function updateModelRow(row, m) {
        const c = row.children;
        const stats = statsOf(m.name);
        setText(c[1], m.version === null ? '–' : 'v' + m.version);
        updateBadge(c[2], m.state);
        const hl = health(m);
        setText(c[3], hl.text);
        c[3].className = hl.className;
        const urlKey = (m.port || '') + '|' + (m.url || '') + '|' + (m.pid || '');
        if (c[4].dataset.key !== urlKey) {
            c[4].dataset.key = urlKey;
            replaceChildren(c[4], h('span', {}, m.port ? String(m.port) : '–',
                m.url ? h('br') : null, m.url ? h('a', {href: m.url + '/health', className: 'url', text: m.url, rel: 'noreferrer'}) : null,
                m.pid ? h('br') : null, m.pid ? h('span', {className: 'process', text: processText(m)}) : null));
        }
        setText(c[5], uptime(m, stats));
        setText(c[6], stats ? rate(stats.requests_per_min) : '–');
        setText(c[7], stats ? rate(stats.errors_per_min) : '–');
        c[7].classList.toggle('bad', !!stats && stats.errors_per_min > 0);
        setText(c[8], stats ? ms(stats.p50_ms) : '–');
        setText(c[9], stats ? ms(stats.p99_ms) : '–');
        const history = stats && Array.isArray(stats.history) ? stats.history : [];
        const chartKey = JSON.stringify(history.length ? history[history.length - 1] : null) + history.length;
        if (c[10].dataset.key !== chartKey) {
            c[10].dataset.key = chartKey;
            replaceChildren(c[10], history.length ? chart(history, 140, 34, m.name, false) : '–');
        }
    }

    // ---- the latency chart -------------------------------------------------------------------------------------

    /** p50 and p99 as two lines over the requests as faint bars; an image with a name saying what it shows. */
    function chart(history, width, height, name, withAxis) {
        const n = history.length;
        const maxMs = 1.1 * Math.max(0.01, ...history.map((b) => b.p99_ms || 0), ...history.map((b) => b.p50_ms || 0));
        const maxReq = Math.max(1, ...history.map((b) => b.requests || 0));
        const pad = 2;
        const x = (i) => n === 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (n - 1);
        const y = (v) => height - pad - (v / maxMs) * (height - 2 * pad);
        const line = (key) => history
            .map((b, i) => (b[key] === null || b[key] === undefined || !b.requests ? null : x(i).toFixed(1) + ',' + y(b[key]).toFixed(1)))
            .filter((p) => p !== null).join(' ');
        // A bucket with requests between empty ones is a dot: a line needs two points.
        const dots = (key) => history.map((b, i) => {
            const lonely = b.requests && b[key] !== null && b[key] !== undefined
                && !(history[i - 1] && history[i - 1].requests) && !(history[i + 1] && history[i + 1].requests);
            return lonely ? svg('circle', {cx: x(i).toFixed(1), cy: y(b[key]).toFixed(1), r: withAxis ? 2.5 : 1.8, className: key.replace('_ms', '')}) : null;
        });
        const barWidth = Math.max(1, (width - 2 * pad) / n - 1);
        const bars = history.map((b, i) => {
            const barHeight = ((b.requests || 0) / maxReq) * (height - 2 * pad);
            return svg('rect', {
                x: (x(i) - barWidth / 2).toFixed(1), y: (height - pad - barHeight).toFixed(1),
                width: barWidth.toFixed(1), height: barHeight.toFixed(1),
                // 5xx (the server's or the model's trouble) in red; a client's 4xx apart, in amber.
                className: b.errors ? 'bar bar-error' : b.client_errors ? 'bar bar-client-error' : 'bar',
            });
        });
        const last = history[n - 1] || {};
        const label = 'Latency of ' + name + ' over the last ' + Math.round(n * ((page.stats && page.stats.bucket_s) || 10) / 60)
            + ' minutes: p50 now ' + ms(last.p50_ms) + ', p99 now ' + ms(last.p99_ms) + ', peak ' + ms(maxMs);
        const image = svg('svg', {viewBox: '0 0 ' + width + ' ' + height, width, height, role: 'img', 'aria-label': label, className: 'chart'},
            svg('title', {text: label}),
            svg('line', {x1: 0, y1: height - pad + 0.5, x2: width, y2: height - pad + 0.5, className: 'axis'}),
            bars,
            svg('polyline', {points: line('p99_ms'), className: 'p99'}),
            svg('polyline', {points: line('p50_ms'), className: 'p50'}),
            dots('p99_ms'), dots('p50_ms'));
        if (!withAxis) {
            return image;
        }
        const minutes = Math.round(n * ((page.stats && page.stats.bucket_s) || 10) / 60);
        return h('figure', {className: 'chart-figure'}, image,
            h('div', {className: 'chart-ends', 'aria-hidden': 'true'}, h('span', {text: minutes + ' min ago'}), h('span', {text: 'now'})),
            h('figcaption', {},
                h('span', {className: 'key key-p50', text: 'p50'}), ' ',
                h('span', {className: 'key key-p99', text: 'p99'}), ' ',
                h('span', {className: 'key key-req', text: 'requests'}),
                ' · top of the scale ' + ms(maxMs) + ' and ' + maxReq + ' requests per ' + ((page.stats && page.stats.bucket_s) || 10) + ' s'));
    }

    // ---- upload ------------------------------------------------------------------------------------------------

    function chosenFile() {
        const files = $('package-file').files;
        return files && files.length ? files[0] : null;
    }

    function upload(event) {
        event.preventDefault();
        const file = chosenFile();
        const message = $('upload-message');
        if (!file) {
            message.textContent = 'Choose a package first: a .zip or .tar.gz with deploy.json at its root.';
            return;
        }
        if (!/\.(zip|tar\.gz|tgz)$/i.test(file.name)) {
            message.textContent = file.name + ' is not a .zip or .tar.gz package.';
            return;
        }
        message.textContent = '';
        const button = $('upload-button');
        const progress = $('upload-progress');
        const percent = $('upload-percent');
        button.disabled = true;
        progress.value = 0;
        percent.textContent = '0 %';
        const form = new FormData();
        form.append('package', file, file.name);
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/api/deployments');
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.addEventListener('progress', (e) => {
            if (e.lengthComputable) {
                const p = Math.round((e.loaded / e.total) * 100);
                progress.value = p;
                percent.textContent = p + ' %';
            }
        });
        xhr.addEventListener('load', () => {
            button.disabled = false;
            let data = null;
            try {
                data = JSON.parse(xhr.responseText);
            } catch (e) {
                data = null;
            }
            if (xhr.status === 202 || xhr.status === 200) {
                progress.value = 100;
                percent.textContent = '100 %';
                $('package-file').value = '';
                $('dropzone').classList.remove('chosen');
                watch(data);
            } else {
                if (xhr.status === 401) {
                    sessionEnded(data && data.error);
                }
                message.textContent = 'Upload refused: ' + (data && data.error ? data.error : xhr.status + ' ' + xhr.statusText);
            }
        });
        xhr.addEventListener('error', () => {
            button.disabled = false;
            message.textContent = 'Upload failed: the connection broke off. Is the server running?';
        });
        xhr.send(form);
    }

    function setupDropzone() {
        const zone = $('dropzone');
        const input = $('package-file');
        const chosen = () => zone.classList.toggle('chosen', !!chosenFile());
        input.addEventListener('change', chosen);
        zone.addEventListener('dragover', (e) => {
            e.preventDefault();
            zone.classList.add('over');
        });
        zone.addEventListener('dragleave', () => zone.classList.remove('over'));
        zone.addEventListener('drop', (e) => {
            e.preventDefault();
            zone.classList.remove('over');
            if (e.dataTransfer && e.dataTransfer.files.length) {
                input.files = e.dataTransfer.files;
                chosen();
                $('upload-form').requestSubmit();
            }
        });
    }

    /** Follows one upload from STARTING to READY or FAILED, with every step the server logs on the way. */
    function watch(accepted) {
        const w = {id: accepted.deploy_id, model: accepted.model, version: accepted.version, state: accepted.state, error: null, steps: []};
        page.watches.unshift(w);
        page.watches = page.watches.slice(0, 5);
        renderWatches();
        const generation = page.generation;
        const step = async () => {
            if (!page.loggedIn || !page.watches.includes(w)) {
                return;
            }
            try {
                const d = await api('GET', '/api/deployments/' + w.id);
                w.state = d.state;
                w.error = d.error;
                w.url = d.url;
                const events = await api('GET', '/api/events?model=' + encodeURIComponent(w.model) + '&limit=200');
                w.steps = events.filter((e) => e.deploy_id === w.id).reverse();
            } catch (e) {
                if (e.status === 404) {
                    w.state = 'GONE';
                }
            }
            renderWatches();
            if (!FINAL.has(w.state) && w.state !== 'GONE') {
                setTimeout(step, WATCH_MS);
            } else if (generation === page.generation) {
                refresh();
            }
        };
        step();
    }

    function renderWatches() {
        const list = $('deploys');
        keyedRows(list, page.watches, (w) => w.id, (w) => h('li', {className: 'deploy'},
            h('div', {className: 'deploy-head'},
                h('a', {href: '#/models/' + encodeURIComponent(w.model), text: w.model + ' version ' + w.version}),
                h('span', {className: 'deploy-state'}),
                h('button', {type: 'button', className: 'quiet small', 'aria-label': 'Dismiss ' + w.model + ' version ' + w.version,
                    text: '✕', onclick: () => {
                        page.watches = page.watches.filter((x) => x !== w);
                        renderWatches();
                    }})),
            h('ol', {className: 'steps'}),
            h('pre', {className: 'error-text', hidden: true})), (li, w) => {
            updateBadge(li.querySelector('.deploy-state'), w.state);
            // Every step while it goes; once READY, the last step (where and how fast) is enough.
            const steps = li.querySelector('.steps');
            const shown = w.state === 'READY' ? w.steps.slice(-1) : w.steps;
            const stepsKey = w.state + shown.length;
            if (steps.dataset.key !== stepsKey) {
                steps.dataset.key = stepsKey;
                steps.classList.toggle('done', w.state === 'READY');
                replaceChildren(steps, shown.map((e) => h('li', {className: 'kind-' + e.kind},
                    h('span', {className: 'kind', text: e.kind}), ' ', e.message)));
            }
            const error = li.querySelector('.error-text');
            error.hidden = !w.error;
            setText(error, w.error || '');
        });
    }

    // ---- one model's page --------------------------------------------------------------------------------------

    function enterModel(name) {
        page.modelName = name;
        page.model = null;
        page.tryEdited = false;
        page.eventsKey = '';
        page.logs = [];
        page.logSeq = 0;
        $('logs-body').replaceChildren();
        delete $('logs-body').dataset.key;
        $('model-title').textContent = name;
        replaceChildren($('model-state'));
        delete $('model-state').dataset.state;
        $('versions-body').replaceChildren();
        $('events-body').replaceChildren();
        $('manifest-version').replaceChildren();
        delete $('manifest-version').dataset.key;
        delete $('manifest-version').dataset.chosen;
        $('manifest').textContent = '';
        $('model-facts').replaceChildren();
        $('model-stats').replaceChildren();
        $('model-chart').replaceChildren();
        $('try-input').value = '';
        $('try-meta').textContent = '';
        $('try-output').textContent = '';
        show('model-missing', false);
        show('model-body', true);
    }

    async function refreshModel(generation) {
        const name = page.route.name;
        let model;
        try {
            model = await api('GET', '/api/models/' + encodeURIComponent(name));
        } catch (e) {
            if (e.status === 404 && generation === page.generation) {
                $('model-missing').textContent = 'There is no model named ' + name + ' (any more). ';
                $('model-missing').append(h('a', {href: '#/', text: 'See all models'}));
                show('model-missing', true);
                show('model-body', false);
                replaceChildren($('model-state'));
                delete $('model-state').dataset.state;
                return;
            }
            throw e;
        }
        const events = await api('GET', '/api/events?model=' + encodeURIComponent(name) + '&limit=100');
        let lines = [];
        try {
            lines = await api('GET', '/api/models/' + encodeURIComponent(name) + '/logs?since=' + page.logSeq);
        } catch (e) {
            if (e.status === 401) {
                throw e;
            }
            // A server without model logs: the panel says there are none.
        }
        if (generation !== page.generation) {
            return;
        }
        addLogLines(lines);
        show('model-missing', false);
        show('model-body', true);
        page.model = model;
        renderModel(model, events);
        await refreshTraffic(name, generation);
    }

    /** The traffic panel: the split as a bar, a slider per serving version, the shadow's agreement, payloads. */
    async function refreshTraffic(name, generation) {
        let traffic = null;
        let payloads = [];
        try {
            traffic = await api('GET', '/api/models/' + encodeURIComponent(name) + '/traffic');
            payloads = await api('GET', '/api/models/' + encodeURIComponent(name) + '/payloads?limit=20');
        } catch (e) {
            if (e.status === 401) {
                throw e;
            }
        }
        if (generation !== page.generation) {
            return;
        }
        show('traffic-panel', !!traffic);
        if (!traffic) {
            return;
        }
        page.traffic = traffic;
        const split = traffic.split || {};
        const down = traffic.down || [];
        const shares = [];
        let rest = 100;
        for (const v of Object.keys(split)) {
            if (split[v] > 0) {
                shares.push([Number(v), split[v]]);
                rest -= split[v];
            }
        }
        if (traffic.active && rest > 0) {
            const own = shares.find((s) => s[0] === traffic.active);
            if (own) { own[1] += rest; } else { shares.push([traffic.active, rest]); }
        }
        const bar = shares.map(([v, w]) => widthOf(h('span', {
            className: down.includes(v) ? 'down' : '',
            title: 'v' + v + ': ' + w + '%' + (down.includes(v) ? ' (down: its share goes to the active version)' : ''),
            text: 'v' + v + ' ' + w + '%'}), w));
        const barKey = JSON.stringify([shares, down]);
        if ($('traffic-bar').dataset.key !== barKey) {
            $('traffic-bar').dataset.key = barKey;
            replaceChildren($('traffic-bar'), ...bar);
        }
        const slidersKey = JSON.stringify([traffic.serving, split]);
        if ($('traffic-sliders').dataset.key !== slidersKey && !$('traffic-sliders').contains(document.activeElement)) {
            $('traffic-sliders').dataset.key = slidersKey;
            replaceChildren($('traffic-sliders'), ...(traffic.serving || []).map((v) => {
                const value = split[String(v)] ?? (v === traffic.active ? rest : 0);
                const out = h('output', {text: value + '%'});
                const input = h('input', {type: 'range', min: '0', max: '100', step: '1', value: String(value),
                    name: String(v), 'aria-label': 'Share of version ' + v});
                input.addEventListener('input', () => { out.textContent = input.value + '%'; });
                return h('label', {}, 'v' + v + (v === traffic.active ? ' (active)' : ''), input, out);
            }));
        }
        const o = traffic.shadow_outcomes || {};
        const total = (o.same || 0) + (o.different || 0) + (o.error || 0);
        $('traffic-shadow').textContent = traffic.shadow
            ? 'Shadow v' + traffic.shadow.version + ' on ' + traffic.shadow.percent + '% of requests: agrees on '
                + (total ? Math.round(100 * (o.same || 0) / total) : 0) + '% (' + (o.same || 0) + ' same, '
                + (o.different || 0) + ' different, ' + (o.error || 0) + ' errors, ' + (o.dropped || 0) + ' dropped)'
                + ((traffic.differences || []).length ? '; last difference: ' + traffic.differences[0].request
                    + ' → ' + traffic.differences[0].reply + ' vs ' + traffic.differences[0].shadow_reply : '')
            : 'No shadow version.';
        keyedRows($('payloads-body'), payloads, (p) => p.time + p.version + JSON.stringify(p.request),
            (p) => h('tr', {}, h('td', {text: p.time}), h('td', {text: 'v' + p.version}), h('td', {text: String(p.status)}),
                h('td', {text: String(p.ms)}), h('td', {text: JSON.stringify(p.request)}), h('td', {text: JSON.stringify(p.reply)})),
            () => {});
    }

    /** Through the CSSOM, which the page's Content-Security-Policy allows (an inline style attribute it does not). */
    function widthOf(el, percent) {
        el.style.width = percent + '%';
        return el;
    }

    async function applyTraffic(event) {
        event.preventDefault();
        const split = {};
        let sum = 0;
        for (const input of $('traffic-sliders').querySelectorAll('input[type=range]')) {
            split[input.name] = Number(input.value);
            sum += Number(input.value);
        }
        const body = {split};
        if (page.traffic && page.traffic.shadow) {
            body.shadow = page.traffic.shadow;
        }
        try {
            if (sum > 100) {
                throw new Error('the shares add up to ' + sum + '%; they must add up to 100% or less');
            }
            await api('PUT', '/api/models/' + encodeURIComponent(page.route.name) + '/traffic', body);
            delete $('traffic-sliders').dataset.key;
            toast(page.route.name + ': traffic split set');
            refresh();
        } catch (e) {
            toast(page.route.name + ': ' + e.message, true);
        }
    }

    async function clearTraffic() {
        try {
            await api('DELETE', '/api/models/' + encodeURIComponent(page.route.name) + '/traffic');
            delete $('traffic-sliders').dataset.key;
            toast(page.route.name + ': all requests to the active version');
            refresh();
        } catch (e) {
            toast(page.route.name + ': ' + e.message, true);
        }
    }

    function shownVersion(model) {
        return model.active || model.versions[0] || null;
    }

    function fact(list, term, value) {
        list.append(h('dt', {text: term}), h('dd', {}, value));
    }

    function renderModel(model, events) {
        const active = shownVersion(model);
        const stats = statsOf(model.name);
        updateBadge($('model-state'), active ? active.state : null);

        const facts = h('dl');
        fact(facts, 'Active version', model.active ? 'v' + model.active.version : 'none yet');
        fact(facts, 'State', active ? badge(active.state) : '–');
        const hl = health(active);
        fact(facts, 'Health', h('span', {className: hl.className, text: hl.text}));
        fact(facts, 'Port', active && active.port ? String(active.port) : '–');
        fact(facts, 'URL', active && active.url ? h('a', {href: active.url + '/health', className: 'url', text: active.url, rel: 'noreferrer'}) : '–');
        fact(facts, 'Through this server', h('code', {text: 'POST /models/' + model.name + '/predict'}));
        fact(facts, 'Uptime', uptime(active, stats));
        fact(facts, 'Ready since', active ? timeEl(active.ready_at) : '–');
        fact(facts, 'Last ping', active ? timeEl(active.last_ping) : '–');
        fact(facts, 'Restarts', active ? String(active.restarts ?? 0) : '–');
        fact(facts, 'Isolation', active && active.pid ? 'own process: ' + processText(active) : 'class loader in the server');
        if (active && active.error) {
            fact(facts, 'Error', h('pre', {className: 'error-text', text: active.error}));
        }
        swapChildren($('model-facts'), facts);

        const numbers = h('dl');
        fact(numbers, 'Requests/min', stats ? rate(stats.requests_per_min) : '–');
        fact(numbers, 'Errors/min', stats ? rate(stats.errors_per_min) : '–');
        fact(numbers, '4xx/min', stats && stats.client_errors_per_min !== undefined ? rate(stats.client_errors_per_min) : '–');
        fact(numbers, 'p50', stats ? ms(stats.p50_ms) : '–');
        fact(numbers, 'p99', stats ? ms(stats.p99_ms) : '–');
        if (stats && typeof stats.mean_batch_size === 'number') {
            // Only for a model with "batching": requests per scoreBatch call of the active version since it started
            fact(numbers, 'Mean batch size', stats.mean_batch_size.toFixed(1) + ' (' + stats.batches + ' batches)');
        }
        swapChildren($('model-stats'), numbers);
        const history = stats && Array.isArray(stats.history) ? stats.history : [];
        const chartKey = JSON.stringify(history);
        if ($('model-chart').dataset.key !== chartKey) {
            $('model-chart').dataset.key = chartKey;
            replaceChildren($('model-chart'), history.length ? chart(history, 480, 120, model.name, true)
                : h('p', {className: 'empty', text: page.statsMissing ? 'No statistics on this server yet (–).' : 'No requests in the last 10 minutes.'}));
        }

        const state = active ? active.state : null;
        const busy = !!document.querySelector('.actions button.working');
        $('action-stop').disabled = busy || state !== 'READY';
        $('action-start').disabled = busy || !model.active || state === 'READY' || state === 'STARTING';
        $('action-restart').disabled = busy || !model.active || state === 'STARTING';
        $('action-undeploy').disabled = busy;

        keyedRows($('versions-body'), model.versions, (d) => d.deploy_id, makeVersionRow, (row, d) => updateVersionRow(row, d, model));
        renderManifest(model);
        renderTryIt(model);
        renderEvents(events);
        renderLogs();
    }

    const MAX_LOG_LINES = 200;

    function addLogLines(lines) {
        if (!Array.isArray(lines) || !lines.length) {
            return;
        }
        for (const line of lines) {
            if (line.seq > page.logSeq) {
                page.logs.push(line);
                page.logSeq = line.seq;
            }
        }
        page.logs = page.logs.slice(-MAX_LOG_LINES);
    }

    function renderLogs() {
        const body = $('logs-body');
        const key = page.logSeq + '|' + page.logs.length;
        if (body.dataset.key === key) {
            return;
        }
        body.dataset.key = key;
        body.replaceChildren(...page.logs.map((l) => h('tr', {className: 'level-' + String(l.level).toLowerCase()},
            cell('Time', timeEl(l.time)),
            cell('Version', 'v' + l.version),
            cell('Level', l.level),
            cell('Message', h('pre', {className: 'log-text', text: l.message})))));
        if (!page.logs.length) {
            body.append(h('tr', {}, h('td', {colspan: 4, className: 'empty',
                text: 'No log lines yet: a model writes them with ModelContext.logger().'})));
        }
    }

    /** Puts the children of {@code fresh} into {@code target} only when they differ, so nothing flickers. */
    function swapChildren(target, fresh) {
        if (target.dataset.html !== fresh.innerHTML) {
            target.dataset.html = fresh.innerHTML;
            target.replaceChildren(...fresh.childNodes);
        }
    }

    function makeVersionRow(d) {
        return h('tr', {},
            h('th', {scope: 'row', 'data-label': 'Version', text: 'v' + d.version}),
            cell('State'), cell('Active'), cell('Uploaded'), cell('Size'),
            cell('SHA-256', h('code', {className: 'sha', title: d.sha256 || '', text: d.sha256 ? d.sha256.slice(0, 12) + '…' : '–'})),
            cell('Actions', h('button', {
                type: 'button', className: 'small', 'aria-label': 'Activate version ' + d.version, text: 'Activate',
                onclick: (e) => control(e.currentTarget, 'versions/' + d.version + '/activate', 'Activating…',
                    page.modelName + ' version ' + d.version + ' is active'),
            }), ' ', h('button', {
                type: 'button', className: 'small quiet delete-version', 'aria-label': 'Delete version ' + d.version,
                text: 'Delete', onclick: (e) => deleteVersion(e.currentTarget, d.version),
            }), h('button', {
                type: 'button', className: 'small cancel', hidden: true,
                'aria-label': 'Cancel the start of version ' + d.version,
                text: 'Cancel', onclick: (e) => cancelStart(e.currentTarget, d),
            })));
    }

    /** Gives up a version that is STARTING (POST /api/deployments/{id}/cancel): its load() is interrupted. */
    async function cancelStart(button, d) {
        button.disabled = true;
        try {
            await api('POST', '/api/deployments/' + d.deploy_id + '/cancel');
            toast(page.modelName + ' version ' + d.version + ' cancelled');
        } catch (e) {
            if (e.status !== 401) {
                toast(page.modelName + ': ' + e.message, true);
            }
        } finally {
            button.disabled = false;
            refresh();
        }
    }

    /** Deletes one version that does not serve, after asking: its record and files go, the model stays. */
    async function deleteVersion(button, version) {
        const name = page.modelName;
        if (!window.confirm('Delete version ' + version + ' of ' + name + ', with its files?')) {
            return;
        }
        button.disabled = true;
        try {
            await api('DELETE', '/api/models/' + encodeURIComponent(name) + '/versions/' + version);
            toast(name + ' version ' + version + ' deleted');
        } catch (e) {
            if (e.status !== 401) {
                toast(name + ': ' + e.message, true);
            }
        } finally {
            refresh();
        }
    }

    function updateVersionRow(row, d, model) {
        const c = row.children;
        const isActive = model.active && model.active.deploy_id === d.deploy_id;
        row.classList.toggle('active-row', !!isActive);
        const stateHolder = c[1];
        updateBadge(stateHolder, d.state);
        if (d.error) {
            stateHolder.title = d.error;
        }
        setText(c[2], isActive ? '● active' : '');
        if (!c[3].firstChild || c[3].dataset.key !== d.created) {
            c[3].dataset.key = d.created;
            replaceChildren(c[3], timeEl(d.created));
        }
        setText(c[4], bytes(d.size));
        const remove = c[6].querySelector('.delete-version');
        if (remove) {
            remove.disabled = !!isActive || d.state === 'STARTING' || d.state === 'READY';
        }
        const button = c[6].querySelector('button');
        if (!button.classList.contains('working')) {
            button.disabled = (isActive && d.state === 'READY') || d.state === 'STARTING' || d.state === 'FAILED';
            button.title = d.state === 'FAILED' ? 'Version ' + d.version + ' FAILED: it cannot serve' : '';
        }
        c[6].querySelector('button.cancel').hidden = d.state !== 'STARTING';
    }

    function renderManifest(model) {
        const select = $('manifest-version');
        const key = model.versions.map((d) => d.deploy_id).join(',') + '|' + (model.active ? model.active.deploy_id : '');
        if (select.dataset.key !== key) {
            const chosen = select.dataset.chosen === 'yes' ? select.value : null;
            select.dataset.key = key;
            select.replaceChildren(...model.versions.map((d) => h('option', {value: d.deploy_id, text: 'v' + d.version + (model.active && model.active.deploy_id === d.deploy_id ? ' (active)' : '')})));
            const shown = shownVersion(model);
            select.value = chosen && model.versions.some((d) => String(d.deploy_id) === chosen) ? chosen : shown ? String(shown.deploy_id) : '';
        }
        const version = model.versions.find((d) => String(d.deploy_id) === select.value);
        setText($('manifest'), version && version.manifest ? JSON.stringify(version.manifest, null, 2) : '–');
    }

    function renderTryIt(model) {
        const input = $('try-input');
        const active = shownVersion(model);
        updateSend(active);
        // Never write into the box while the person is in it: what they type would be merged with the sample.
        if (page.tryEdited || input.value || document.activeElement === input) {
            return;
        }
        const sample = active && active.manifest && active.manifest.health ? active.manifest.health.sample : undefined;
        input.value = sample === undefined ? '{}' : JSON.stringify(sample);
    }

    /** Send works only on a READY version: a FAILED (or stopped, or starting) one has nothing to answer. */
    function updateSend(active) {
        const button = $('try-send');
        const ready = !!active && active.state === 'READY';
        button.disabled = page.trySending || !ready;
        button.title = ready ? '' : active ? 'v' + active.version + ' is ' + active.state + ': nothing answers yet'
            : 'no version yet';
    }

    function renderEvents(events) {
        const key = events.length + '|' + (events[0] ? events[0].time + events[0].kind : '');
        if (page.eventsKey === key) {
            return;
        }
        page.eventsKey = key;
        $('events-body').replaceChildren(...events.map((e) => h('tr', {className: 'kind-' + e.kind},
            cell('Time', timeEl(e.time)),
            cell('Version', e.version ? 'v' + e.version : '–'),
            cell('Event', h('span', {className: 'kind', text: e.kind})),
            cell('Message', e.message))));
        if (!events.length) {
            $('events-body').append(h('tr', {}, h('td', {colspan: 4, className: 'empty', text: 'No events.'})));
        }
    }

    /** Runs one lifecycle call; the button says what is happening until the server answers. */
    async function control(button, action, working, done) {
        const name = page.modelName;
        const label = button.textContent;
        button.classList.add('working');
        button.disabled = true;
        button.textContent = working;
        const generation = page.generation;
        refresh();
        try {
            const d = await api('POST', '/api/models/' + encodeURIComponent(name) + '/' + action);
            if (d && d.state === 'FAILED') {
                toast(name + ' version ' + d.version + ' FAILED: ' + (d.error || 'see the events'), true);
            } else if (d && d.state === 'in progress') {
                toast(name + ': still working; the page will show the outcome');
            } else {
                toast(done + (d && d.state ? ' (' + d.state + ')' : ''));
            }
        } catch (e) {
            if (e.status !== 401) {
                toast(name + ': ' + e.message, true);
            }
        } finally {
            button.classList.remove('working');
            button.textContent = label;
            button.disabled = false;
            if (generation === page.generation) {
                refresh();
            }
        }
    }

    function setupActions() {
        const labels = {stop: ['Stopping…', 'stopped'], start: ['Starting…', 'started'], restart: ['Restarting…', 'restarted']};
        for (const action of Object.keys(labels)) {
            $('action-' + action).addEventListener('click', (e) => control(e.currentTarget, action, labels[action][0],
                page.modelName + ' ' + labels[action][1]));
        }
        const dialog = $('undeploy-dialog');
        $('action-undeploy').addEventListener('click', () => {
            $('undeploy-title').textContent = 'Undeploy ' + page.modelName + '?';
            $('undeploy-confirm').textContent = 'Undeploy ' + page.modelName;
            $('undeploy-purge').checked = false;
            dialog.showModal();
        });
        dialog.addEventListener('close', async () => {
            if (dialog.returnValue !== 'confirm') {
                return;
            }
            const name = page.modelName;
            const purge = $('undeploy-purge').checked;
            try {
                await api('DELETE', '/api/models/' + encodeURIComponent(name) + (purge ? '?purge=true' : ''));
                toast(name + ' undeployed' + (purge ? ', its files deleted' : ''));
                location.hash = '#/';
            } catch (e) {
                if (e.status !== 401) {
                    toast(name + ': ' + e.message, true);
                }
            }
        });
        $('manifest-version').addEventListener('change', () => {
            $('manifest-version').dataset.chosen = 'yes';
            if (page.model) {
                renderManifest(page.model);
            }
        });
    }

    async function tryIt(event) {
        event.preventDefault();
        const text = $('try-input').value;
        const meta = $('try-meta');
        const output = $('try-output');
        try {
            JSON.parse(text);
        } catch (e) {
            meta.textContent = 'Not sent: the request is not valid JSON (' + e.message + ')';
            meta.className = 'meta bad';
            // The reply below belongs to an earlier request: it must not read as the answer to this one.
            output.textContent = '';
            return;
        }
        const button = $('try-send');
        button.disabled = true;
        page.trySending = true;
        output.textContent = '';
        meta.className = 'meta';
        meta.textContent = 'sending…';
        const started = performance.now();
        try {
            const response = await fetch('/models/' + encodeURIComponent(page.modelName) + '/predict', {
                method: 'POST', headers: {'Content-Type': 'application/json', Accept: 'application/json'}, body: text,
                credentials: 'omit',
            });
            const body = await response.text();
            const elapsed = performance.now() - started;
            let shown = body;
            try {
                shown = JSON.stringify(JSON.parse(body), null, 2);
            } catch (e) {
                // not JSON: shown as it came
            }
            meta.textContent = response.status + ' ' + (response.statusText || (response.ok ? 'OK' : '')) + ' · ' + ms(elapsed);
            meta.className = response.ok ? 'meta ok' : 'meta bad';
            output.textContent = shown;
        } catch (e) {
            meta.textContent = 'No answer: ' + e.message;
            meta.className = 'meta bad';
            output.textContent = '';
        } finally {
            page.trySending = false;
            if (page.model) {
                updateSend(shownVersion(page.model));
            } else {
                button.disabled = false;
            }
        }
    }

    // ---- start -------------------------------------------------------------------------------------------------

    async function boot() {
        $('login-form').addEventListener('submit', login);
        $('logout').addEventListener('click', logout);
        $('upload-form').addEventListener('submit', upload);
        $('try-form').addEventListener('submit', tryIt);
        $('traffic-form').addEventListener('submit', applyTraffic);
        $('traffic-clear').addEventListener('click', clearTraffic);
        $('try-input').addEventListener('input', () => {
            page.tryEdited = true;
        });
        setupDropzone();
        setupActions();
        window.addEventListener('hashchange', route);
        document.addEventListener('visibilitychange', () => {
            if (!document.hidden && page.loggedIn) {
                refresh();
            }
        });
        try {
            const session = await api('GET', '/api/session');
            if (session && session.logged_in) {
                startApp();
                return;
            }
        } catch (e) {
            // shown as logged out
        }
        showLogin('');
    }

    boot();
})();
