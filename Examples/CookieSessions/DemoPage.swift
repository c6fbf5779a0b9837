#if Hummingbird
    /// The demo's one HTML page: it drives the JSON routes with `fetch`, so the browser stores and
    /// sends the session cookies exactly as it would for any application.
    enum DemoPage {
        static func html(mode: String) -> String {
            """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>SessionPipeline demo</title>
            <style>
              body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; color: #1d2330; }
              h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
              .mode { color: #5b6475; margin-top: 0; }
              section { border: 1px solid #d7dbe3; border-radius: 8px; padding: 0.75rem 1rem; margin: 1rem 0; }
              h2 { font-size: 1rem; margin: 0 0 0.5rem; }
              button { font: inherit; padding: 0.25rem 0.75rem; margin-right: 0.5rem; }
              input { font: inherit; padding: 0.2rem 0.4rem; width: 12rem; }
              .value { font-weight: 600; }
              ul { margin: 0.25rem 0 0; }
            </style>
            </head>
            <body>
            <h1>SessionPipeline demo</h1>
            <p class="mode">Sessions in <span id="mode">\(mode)</span> mode, sealed with XChaCha20-Poly1305.</p>

            <section>
              <h2>Counter</h2>
              <p>Count: <span class="value" id="count">0</span></p>
              <button id="increment">Count</button>
            </section>

            <section>
              <h2>Login</h2>
              <p>Signed in as <span class="value" id="user">nobody</span></p>
              <input id="name" placeholder="name" value="alice">
              <button id="login">Log in</button>
              <button id="logout">Log out</button>
            </section>

            <section>
              <h2>Flash messages</h2>
              <input id="message" placeholder="message" value="Saved!">
              <button id="flash">Flash it</button>
              <p>Shown once, on the next page load:</p>
              <ul id="messages"></ul>
            </section>

            <section>
              <h2>Session size</h2>
              <p>Session data: <span class="value" id="ballast">0</span> random bytes,
                 carried in <span class="value" id="cookies">0</span> cookie(s)
                 (<span id="cookie-bytes">0</span> bytes).</p>
              <button id="grow">Grow by 7 KB</button>
              <button id="shrink">Shrink</button>
            </section>

            <p id="status" aria-live="polite"></p>

            <script>
            const $ = (id) => document.getElementById(id);
            async function call(method, path) {
              const response = await fetch(path, { method, credentials: "same-origin" });
              if (!response.ok) throw new Error(method + " " + path + ": " + response.status);
              return response.json();
            }
            async function refresh() {
              const info = await call("GET", "/info");
              $("count").textContent = info.count;
              $("user").textContent = info.user ?? "nobody";
              $("ballast").textContent = info.ballast;
              $("cookies").textContent = info.cookies;
              $("cookie-bytes").textContent = info.cookieBytes;
            }
            async function act(method, path) {
              try {
                await call(method, path);
                await refresh();
                $("status").textContent = "done: " + method + " " + path.split("?")[0];
              } catch (error) {
                $("status").textContent = "failed: " + error.message;
              }
            }
            $("increment").onclick = () => act("GET", "/counter");
            $("login").onclick = () => act("POST", "/login?user=" + encodeURIComponent($("name").value));
            $("logout").onclick = () => act("POST", "/logout");
            $("flash").onclick = () => act("POST", "/flash?message=" + encodeURIComponent($("message").value));
            $("grow").onclick = () => act("POST", "/grow?bytes=7000");
            $("shrink").onclick = () => act("POST", "/shrink");
            (async () => {
              const flash = await call("GET", "/flash");
              for (const message of flash.messages) {
                const item = document.createElement("li");
                item.textContent = message;
                $("messages").appendChild(item);
              }
              await refresh();
              $("status").textContent = "ready";
            })();
            </script>
            </body>
            </html>
            """
        }
    }
#endif
