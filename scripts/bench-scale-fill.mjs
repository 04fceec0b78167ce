// The data of `npm run bench -- scale`: a portal that has run for months, written with
// set-based SQL (INSERT ... SELECT over generate_series), never row by row. At scale 1:
// 100 hosts, 500 users in 20 groups, 100,000 orders in every status, 10,000 live
// environments with two addresses each, the pipeline runs, steps (~1.3 M) and step logs
// (~3 M lines) those orders would have, 200,000 audit events, lease events, notifications,
// and 200 orders held for approval in one group (team-01, approver-01@bench.local).
// Shapes follow what the portal itself writes (lib/pipeline, lib/db/queries): valid enums,
// foreign keys and JSON.

/** The provision and teardown steps (lib/pipeline/steps.ts) with a typical duration in ms. */
const provisionSteps = [
  ["place", "mk_image", 200],
  ["resolve", "mk_image", 2_000],
  ["pack", "mk_image", 60_000],
  ["allocate", "mk_virtual", 300],
  ["storage", "mk_virtual", 20_000],
  ["unpack", "mk_virtual", 90_000],
  ["networking", "mk_virtual", 3_000],
  ["glue", "mk_virtual", 5_000],
  ["boot", "mk_virtual", 30_000],
  ["wait_ready", "mk_virtual", 45_000],
  ["handover", "mk_virtual", 500],
];
const teardownSteps = [
  ["halt", "teardown", 20_000],
  ["destroy", "teardown", 8_000],
  ["release", "teardown", 300],
];

/** Log lines per step, as the sim driver writes them (%h = host, %n = environment). */
const logLines = {
  place: ["placed on %h: most free memory (3120402 MiB free, 1821 vCPUs, 998712 GiB) among 96 of 100 hosts that fit", "quota of the group checked: 412 of 100000 environments"],
  resolve: ["resolving golden image for %n from the image store", "image-source %n@%h: resolved (sha256 verified)"],
  pack: ["packing image for %n (4096 MB) into %n.tar", "image-pack %n.tar: packed in 58.2 s"],
  allocate: ["address 10.20.41.17 mac 02:00:00:14:29:11 on network Service network", "address 10.30.41.17 mac 02:00:00:1e:29:11 on network of the order"],
  storage: ["creating 20 GiB volume %n as copy-on-write clone of the golden image", "volume %n: created on %h"],
  unpack: ["unpacking %n.tar onto volume %n", "checksum verified: 4 files, 4096 MB"],
  networking: ["nic on xenbr1: 10.30.41.17/16 mac 02:00:00:1e:29:11 gateway 10.30.0.1", "nic on xenbr0: 10.20.41.17/16 mac 02:00:00:14:29:11 gateway 10.20.0.1"],
  glue: ["hostname %n; 2 vCPUs, 4096 MiB", "authorized_keys: 1 key of the owner installed"],
  boot: ["starting %n on %h", "guest %n: running (domain id 4711)"],
  wait_ready: ["waiting for %n to answer on 10.30.41.17:22", "guest reports 10.30.41.17 (02:00:00:1e:29:11); readiness %n: ready"],
  handover: ["handed over to the owner by e-mail and on the order page", "4.6 min from order to ready"],
  halt: ["stopping guest %n on %h (ACPI power button)", "guest %n: stopped after 12.1 s"],
  destroy: ["removing guest %n and volume %n from %h", "volume %n: removed"],
  release: ["addresses of %n freed: 10.20.41.17, 10.30.41.17", "released; the environment is retired"],
};

function values(rows) {
  return rows.map((r) => `(${r.map((v) => (typeof v === "number" ? String(v) : `'${String(v).replace(/'/g, "''")}'`)).join(", ")})`).join(",\n");
}

/**
 * The fill, step by step: each entry is [label, sql]. `scale` multiplies orders and audit
 * events (and so steps, logs, live environments); hosts, users and groups stay as they are.
 */
export function fillStatements(scale) {
  const N = Math.max(1000, Math.round(100_000 * scale));
  const AUDIT = Math.max(2000, Math.round(200_000 * scale));
  const steps = [
    ...provisionSteps.map(([name, phase, ms], i) => ["provision", i, phase, name, ms, provisionSteps.slice(0, i).reduce((s, x) => s + x[2], 0)]),
    ...teardownSteps.map(([name, phase, ms], i) => ["destroy", i, phase, name, ms, teardownSteps.slice(0, i).reduce((s, x) => s + x[2], 0)]),
  ];
  const lines = Object.entries(logLines).flatMap(([name, texts]) => [...texts, texts[0] + " (again)"].map((t, k) => [name, k + 1, t]));
  return [
    [
      "reference data",
      `
      select setseed(0.18);
      create temp table step_def (kind text, pos int, phase text, name text, ms int, offset_ms int);
      insert into step_def values ${values(steps)};
      create temp table log_def (name text, k int, line text);
      insert into log_def values ${values(lines)};
      -- Room for 10,000 live environments: /16 networks and big sim hosts.
      update networks set cidr = case purpose when 'service' then '10.20.0.0/16' else '10.30.0.0/16' end;
      update hosts set cpu_capacity = 2048, memory_mb_capacity = 4194304, disk_gb_capacity = 1000000 where kind = 'sim';
      insert into hosts (name, kind, address, state, cpu_capacity, memory_mb_capacity, disk_gb_capacity, features, tags, config)
      select 'sim-' || lpad(k::text, 3, '0'), 'sim', 'sim://sim-' || lpad(k::text, 3, '0'),
             case when k % 40 = 0 then 'draining' when k % 49 = 0 then 'offline' else 'active' end,
             2048, 4194304, 1000000, array['vms'], case when k % 10 = 0 then array['batch'] else '{}'::text[] end, '{}'::jsonb
      from generate_series(3, 100) k;
      insert into groups (slug, name, kind, auto_approve)
      select 'team-' || lpad(g::text, 2, '0'), 'Team ' || lpad(g::text, 2, '0'), 'pool', g > 5 from generate_series(1, 20) g;
      -- 20 approvers (one per group) and 479 customers; everyone signs in with the admin's password.
      insert into users (email, name, role, password_hash)
      select case when n <= 20 then 'approver-' || lpad(n::text, 2, '0') else 'user-' || lpad(n::text, 3, '0') end || '@bench.local',
             case when n <= 20 then 'Approver ' || n else 'User ' || n end,
             (case when n <= 20 then 'approver' else 'customer' end)::role,
             (select password_hash from users where role = 'admin' order by created_at limit 1)
      from generate_series(1, 499) n;
      create temp table bu as
      select u.id, row_number() over (order by u.email) as n, g.id as group_id, g.auto_approve
      from users u
      join groups g on g.slug = 'team-' || lpad((1 + (substring(u.email from '[0-9]+')::int - 1) % 20)::text, 2, '0')
      where u.email like '%@bench.local';
      insert into memberships (user_id, group_id, role)
      select bu.id, bu.group_id, case when u.role = 'approver' then 'approver' else 'customer' end from bu join users u on u.id = bu.id;
      -- Group quotas (generous): every order counts them under the group's lock.
      insert into quotas (group_id, environments, vcpus, memory_mb, disk_gb, licensed_cores)
      select id, 100000, 1000000, 1000000000, 100000000, 100000 from groups;
      create temp table hs as select id, name, row_number() over (order by name) - 1 as k from hosts where kind = 'sim';
      create temp table im as select id, slug, purpose, row_number() over (order by slug) - 1 as k from images where active and 'sim' = any(host_kinds);
      create temp table fl as select id, slug, vcpus, memory_mb, disk_gb, row_number() over (order by vcpus, slug) - 1 as k from flavors where slug in ('small', 'medium', 'large');
      `,
    ],
    [
      `${N.toLocaleString("en")} orders and their policy decisions`,
      `
      create temp table o as
      select s.i, gen_random_uuid() as id,
             case when s.i % 50 = 0 then (select id from users where role = 'admin' order by created_at limit 1) else bu.id end as user_id,
             case when s.i % 50 = 0 then (select id from groups where slug = 'default') else bu.group_id end as group_id,
             case when s.i % 50 = 0 then true else bu.auto_approve end as auto_approve,
             (s.i % (select count(*) from im)) as im_k, (s.i * 7 % 3) as fl_k,
             now() - interval '120 days' * ((${N} - s.i)::float8 / ${N}) - interval '10 minutes' as created_at,
             case when s.r < 0.80 then 'retired' when s.r < 0.895 then 'ready' when s.r < 0.90 then 'expiring'
                  when s.r < 0.93 then 'failed' when s.r < 0.96 then 'rejected' else 'cancelled' end as status,
             (random() * 10)::int as fail_at,
             case when random() < 0.5 then 14 else 30 end as lease_days
      from (select i, random() as r from generate_series(1, ${N}) i) s
      join bu on bu.n = 1 + (s.i % 499);
      -- A group's approver finds 200 orders held; a few orders are in flight.
      update o set status = 'pending_approval'
      where i in (select i from o where group_id = (select id from groups where slug = 'team-01') and status not in ('ready', 'expiring') order by i desc limit 200);
      with pick as (
        select i, row_number() over (order by i desc) as k from o
        where status = 'retired' and group_id <> (select id from groups where slug = 'team-01') order by i desc limit 50
      )
      update o set status = (array['submitted', 'approved', 'queued', 'provisioning', 'retiring'])[1 + (pick.k - 1) / 10]
      from pick where o.i = pick.i;
      alter table o add column image_id uuid, add column image_slug text, add column purpose text, add column flavor_id uuid,
        add column vcpus int, add column memory_mb int, add column disk_gb int, add column group_slug text, add column group_name text;
      update o set image_id = im.id, image_slug = im.slug, purpose = im.purpose from im where im.k = o.im_k;
      update o set flavor_id = fl.id, vcpus = fl.vcpus, memory_mb = fl.memory_mb, disk_gb = fl.disk_gb from fl where fl.k = o.fl_k;
      update o set group_slug = g.slug, group_name = g.name from groups g where g.id = o.group_id;
      create index on o (id);
      create index on o (status);
      analyze o;
      insert into orders (id, user_id, group_id, image_id, flavor_id, network_id, name, purpose, lease_days, status, reason, decided_by,
                          created_at, updated_at, ready_at, decided_at, queued_at)
      select o.id, o.user_id, o.group_id, o.image_id, o.flavor_id, (select id from networks where slug = 'production'),
             'env-' || lpad(o.i::text, 6, '0'), o.purpose, o.lease_days, o.status,
             case o.status
               when 'pending_approval' then 'held: orders in group ' || o.group_name || ' need an approver'
               when 'rejected' then 'rejected by an approver: not needed for this project'
               when 'failed' then 'step ' || (select name from step_def where kind = 'provision' and pos = o.fail_at) || ' failed: host did not answer'
               when 'cancelled' then 'cancelled by the owner'
               when 'submitted' then null
               else null end,
             case when not o.auto_approve and o.status not in ('pending_approval', 'submitted') then (select id from users where email = 'approver-' || right(o.group_slug, 2) || '@bench.local') end,
             o.created_at,
             o.created_at + interval '6 minutes',
             case when o.status in ('ready', 'expiring', 'retired', 'retiring') then o.created_at + interval '5 minutes' + random() * interval '2 minutes' end,
             case when o.status in ('pending_approval', 'submitted') then null when o.auto_approve then o.created_at else o.created_at + random() * interval '3 hours' end,
             case when o.status in ('pending_approval', 'submitted', 'rejected', 'cancelled', 'approved') then null else o.created_at + interval '1 second' end
      from o;
      insert into policy_decisions (order_id, user_id, group_id, rule_key, rule_name, outcome, explanation, request, at)
      select o.id, o.user_id, o.group_id,
             case when o.auto_approve then 'default:group-auto-approve' else 'default:group-requires-approval' end,
             case when o.auto_approve then 'Default: auto-approving group' else 'Default: group requires approval' end,
             case when o.auto_approve then 'approve' else 'hold' end,
             case when o.auto_approve then 'auto-approved: group ' || o.group_name || ' approves its orders by itself'
                  else 'held: orders in group ' || o.group_name || ' need an approver' end,
             jsonb_build_object('name', 'env-' || lpad(o.i::text, 6, '0'), 'group', o.group_slug, 'image', o.image_slug, 'flavor',
                                (select slug from fl where fl.k = o.fl_k), 'network', 'production', 'purpose', o.purpose, 'leaseDays', o.lease_days),
             o.created_at
      from o order by o.created_at;
      `,
    ],
    [
      "environments, addresses, lease events",
      `
      create temp table e as
      select gen_random_uuid() as id, o.id as order_id, o.i, o.status, o.created_at, o.lease_days, o.vcpus, o.memory_mb, o.disk_gb,
             o.user_id, o.group_id,
             row_number() over (order by o.i) as k
      from o where o.status in ('ready', 'expiring', 'retired', 'retiring', 'provisioning') or (o.status = 'failed' and o.fail_at > 0);
      alter table e add column live boolean;
      update e set live = status in ('ready', 'expiring');
      insert into environments (id, order_id, host_id, hostname, state, vcpus, memory_mb, disk_gb, placement, expires_at, created_at, deleted_at)
      select e.id, e.order_id, hs.id, 'env-' || lpad(e.i::text, 6, '0'),
             case e.status when 'ready' then 'running' when 'expiring' then 'stopped' when 'retired' then 'deleted'
                           when 'retiring' then 'deleting' when 'provisioning' then 'creating' else 'error' end,
             e.vcpus, e.memory_mb, e.disk_gb,
             hs.name || ': most free memory among 96 of 100 hosts that fit',
             case e.status when 'ready' then now() + interval '8 days' + random() * interval '80 days'
                           when 'expiring' then now() - interval '1 day'
                           else e.created_at + e.lease_days * interval '1 day' end,
             e.created_at + interval '10 seconds',
             case when e.status = 'retired' then e.created_at + e.lease_days * interval '1 day' + interval '3 days' end
      from e join hs on hs.k = e.k % 100;
      -- Two addresses per live environment (service and production), after the first 1024.
      insert into ip_allocations (network_id, ip, mac, order_id, kind, allocated_at)
      select n.id, n.prefix || ((1024 + l.k) / 256) || '.' || ((1024 + l.k) % 256),
             '02:00:00:' || n.b2 || ':' || lpad(to_hex((1024 + l.k) / 256), 2, '0') || ':' || lpad(to_hex((1024 + l.k) % 256), 2, '0'),
             l.order_id, 'guest', l.created_at + interval '20 seconds'
      from (select order_id, created_at, row_number() over (order by i) as k from e where live) l
      cross join (select id, case purpose when 'service' then '10.20.' else '10.30.' end as prefix,
                         case purpose when 'service' then '14' else '1e' end as b2
                  from networks where slug in ('service', 'production')) n;
      insert into lease_events (environment_id, order_id, kind, lease_end, at, email)
      select e.id, e.order_id, k.kind, x.expires_at, x.expires_at + k.after, 'skipped'
      from e join environments x on x.id = e.id
      cross join (values ('warn_7d', interval '-7 days'), ('warn_1d', interval '-1 day'), ('stopped', interval '0 days')) k(kind, after)
      where e.status = 'expiring';
      insert into lease_events (environment_id, order_id, kind, lease_end, at, email)
      select e.id, e.order_id, 'retired', x.expires_at, x.deleted_at, 'none'
      from e join environments x on x.id = e.id where e.status = 'retired';
      insert into extension_requests (environment_id, order_id, requested_by, days, reason, policy, status, created_at)
      select e.id, e.order_id, e.user_id, 60, 'the project runs longer', 'beyond the 90-day limit of the portal', 'pending', now() - interval '1 hour'
      from e where e.live and e.group_id = (select id from groups where slug = 'team-01') limit 20;
      insert into notifications (user_id, kind, title, body, link, created_at, read_at)
      select e.user_id, 'lease.warn_7d', 'env-' || lpad(e.i::text, 6, '0') || ' expires in 7 days', 'Extend its lease on the order page if you still need it.',
             '/orders/' || e.order_id, e.created_at + interval '7 days', case when e.i % 3 = 0 then null else e.created_at + interval '8 days' end
      from e where e.live or e.status = 'retired' and e.i % 4 = 0;
      `,
    ],
    [
      "pipeline runs and steps",
      `
      create temp table r as
      select gen_random_uuid() as id, o.id as order_id, 'provision' as kind, o.status as order_status, o.fail_at, o.created_at
      from o where o.status in ('ready', 'expiring', 'retired', 'retiring', 'failed', 'queued', 'provisioning')
      union all
      select gen_random_uuid(), o.id, 'destroy', o.status, o.fail_at, o.created_at + o.lease_days * interval '1 day' + interval '3 days'
      from o where o.status in ('retired', 'retiring');
      alter table r add column status text;
      update r set status = case
        when kind = 'destroy' and order_status = 'retiring' then 'running'
        when order_status = 'failed' then 'failed'
        when order_status = 'queued' then 'queued'
        when order_status = 'provisioning' then 'running'
        else 'succeeded' end;
      insert into pipeline_runs (id, order_id, kind, status, attempt, error, created_at, started_at, finished_at)
      select r.id, r.order_id, r.kind, r.status, 1,
             case when r.status = 'failed' then 'host did not answer' end,
             r.created_at + interval '1 second',
             case when r.status <> 'queued' then r.created_at + interval '2 seconds' end,
             case when r.status in ('succeeded', 'failed') then r.created_at + interval '5 minutes' end
      from r order by r.created_at;
      insert into pipeline_steps (id, run_id, position, phase, name, status, attempt, error, started_at, finished_at, estimate_ms)
      select gen_random_uuid(), x.id, x.pos, x.phase, x.name, x.status,
             case when x.status = 'pending' then 0 else 1 end,
             case when x.status = 'failed' then 'host did not answer' end,
             case when x.status <> 'pending' then x.t0 end,
             case when x.status in ('succeeded', 'failed') then x.t0 + x.ms * (0.6 + random() * 0.8) * interval '1 millisecond' end,
             case when x.status <> 'pending' then x.ms end
      from (
        select r.id, d.pos, d.phase, d.name, d.ms, r.created_at + interval '2 seconds' + d.offset_ms * interval '1 millisecond' as t0,
               case
                 when r.status = 'succeeded' then 'succeeded'
                 when r.status = 'queued' then 'pending'
                 when r.status = 'failed' then case when d.pos < r.fail_at then 'succeeded' when d.pos = r.fail_at then 'failed' else 'pending' end
                 when d.pos < 1 then 'succeeded' when d.pos = 1 then 'running' else 'pending' end as status
        from r join step_def d on d.kind = r.kind
      ) x;
      `,
    ],
    [
      "step logs",
      `
      insert into step_logs (step_id, attempt, line, at)
      select s.id, 1, replace(replace(l.line, '%n', 'env-' || right(s.id::text, 6)), '%h', 'sim-0' || (10 + hashtext(s.run_id::text) % 90 + 90) % 90 + 10),
             s.started_at + l.k * interval '1 second'
      from pipeline_steps s
      join log_def l on l.name = s.name and l.k <= 2 + s.position % 2
      where s.status <> 'pending';
      `,
    ],
    [
      `${AUDIT.toLocaleString("en")} audit events`,
      `
      insert into audit_events (actor_id, action, target_type, target_id, data, at, source_ip, user_agent, before, after)
      select actor_id, action, target_type, target_id, data, at, source_ip, user_agent, before, after from (
        select o.user_id as actor_id, 'order.create' as action, 'order' as target_type, o.id::text as target_id,
               jsonb_build_object('group', o.group_slug, 'image', o.image_slug, 'flavor', (select slug from fl where fl.k = o.fl_k), 'network', 'production',
                                  'decision', case when o.auto_approve then 'default:group-auto-approve' else 'default:group-requires-approval' end) as data,
               o.created_at as at, '10.1.' || (o.i % 250) || '.' || (o.i % 7 + 10) as source_ip,
               case when o.i % 3 = 0 then 'curl/8.5.0' else 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' end as user_agent,
               null::jsonb as before,
               jsonb_build_object('name', 'env-' || lpad(o.i::text, 6, '0'), 'status', case when o.auto_approve then 'queued' else 'pending_approval' end) as after
        from o
        union all
        select bu.id, a.action, a.target_type,
               case when a.target_type = 'order' then t.id::text else gen_random_uuid()::text end,
               jsonb_build_object('note', a.action || ' #' || k),
               now() - random() * interval '120 days', '10.2.' || (k % 250) || '.' || (k % 11 + 20), 'Mozilla/5.0 (Macintosh) Safari/605.1.15',
               case when a.action like 'order.%' then jsonb_build_object('status', 'ready') end,
               case when a.action like 'order.%' then jsonb_build_object('status', 'retiring') end
        from generate_series(1, ${AUDIT - N}) k
        join (values (0, 'order.approve', 'order'), (1, 'order.destroy', 'order'), (2, 'lease.extend', 'environment'), (3, 'order.cancel', 'order'),
                     (4, 'host.update', 'host'), (5, 'group.member.set', 'group'), (6, 'token.create', 'token'), (7, 'auth.sign_out', 'user'),
                     (8, 'quota.set', 'group'), (9, 'order.reject', 'order')) a(n, action, target_type) on a.n = k % 10
        join bu on bu.n = 1 + k % 499
        join o t on t.i = 1 + (k::bigint * 7919) % ${N}
      ) ev order by at;
      `,
    ],
    ["vacuum and analyze", "vacuum (analyze)"],
  ];
}
