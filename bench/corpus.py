#!/usr/bin/env python3
"""Real-world-like container logs of many kinds, for measuring what a log store keeps per byte
on disk (issue 15): one file per kind, about --mib MiB each, one log line per line, no CRI
prefix (the benchmark adds it, as the container runtime would).

  python3 bench/corpus.py OUTDIR [--mib 8] [--seed 15] [--kinds java python ...]

Why not the peers' CRI data set alone: its messages are words drawn uniformly from a 40-word
list after a sequence number, so it compresses like no real log (zstd -3 in 64 KiB blocks
makes ~4.6x of it, where real logs give ~5-19x, and differently per kind). A compressed format
must be judged on logs that have what real logs have:

  - templates: a few hundred message shapes per program, chosen with a skewed (Zipf)
    frequency, so the same words come back often but not in a fixed rhythm;
  - variable fields that carry real entropy: timestamps that increase by irregular amounts,
    UUIDs, hex request and trace ids, IPs, ports, PIDs, durations, sizes, counts, SQL literals;
  - correlation: a request's lines share its id and interleave with other requests', a client
    comes back, a stack trace repeats most of its frames (each frame its own line, as a
    container emits it), a build prints the same compiler flags for every file;
  - the line lengths of each kind, from 30-byte progress lines to 1 KB JSON and SQL.

Nothing is sampled from noise (no random bytes, no random words in random order) and nothing
is a fixed cycle: the ratios land in the range of real logs. The kinds:

  java      Spring Boot / logback application log: requests, Hikari pool, schedulers, WARN and
            ERROR with multi-line stack traces (Tomcat + Spring frames, "Caused by", "... N more")
  python    Django / Celery / a MediaWiki bot: requests, tasks with UUIDs, warnings, tracebacks
  access    nginx combined access log (+ request time): repeat clients, IPv4 and IPv6, static
            assets, API and wiki paths, query strings, referers, browser and bot user agents
  json      a Go service's structured logs (zap-like): nested http/db/user objects, request,
            trace and span ids, durations, the occasional error with an escaped stack
  build     CI and image builds: BuildKit steps, pip, npm, webpack, gcc and cmake, cargo and go,
            with warnings and source excerpts
  syslog    a bastion's daemons: sshd, systemd, CRON, postfix, chrony, puppet, kernel, sudo
  klog      Kubernetes controllers in klog format, structured key="value" pairs
  postgres  PostgreSQL server log: connections, slow statements with parameters, checkpoints,
            autovacuum reports, lock waits, errors with DETAIL and STATEMENT lines

Deterministic: the same --seed gives the same bytes (each kind draws from its own generator,
seeded by the seed and the kind's name, so adding a kind changes no other). Sizes stop at the
first line past --mib MiB. The module is also imported by bench/history_per_byte.py
(`generate`, `KINDS`).
"""
import argparse, bisect, calendar, functools, json, os, sys, time
import random as _random
from urllib.parse import quote

START = calendar.timegm((2026, 11, 30, 10, 0, 0))  # seconds since the epoch, UTC

# --------------------------------------------------------------------------- shared helpers


class Zipf:
    """Picks items with a skewed frequency: the first is most common (weight 1/(i+1)^s)."""

    def __init__(self, items, s=1.0):
        self.items = list(items)
        acc, self.cum = 0.0, []
        for i in range(len(self.items)):
            acc += 1.0 / (i + 1) ** s
            self.cum.append(acc)
        self.total = acc

    def __call__(self, rng):
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


class Weighted:
    """Picks items by explicit weight: Weighted([(weight, item), ...])."""

    def __init__(self, pairs):
        acc, self.cum, self.items = 0.0, [], []
        for w, item in pairs:
            acc += w
            self.cum.append(acc)
            self.items.append(item)
        self.total = acc

    def __call__(self, rng):
        return self.items[bisect.bisect(self.cum, rng.random() * self.total)]


class Clock:
    """Time that moves on by irregular steps (exponential, mean `mean_ms`); microseconds."""

    def __init__(self, rng, mean_ms, start=START):
        self.rng, self.rate, self.us = rng, 1.0 / (mean_ms * 1000.0), start * 1_000_000

    def tick(self, scale=1.0):
        self.us += int(self.rng.expovariate(self.rate / scale)) + 1
        return self.us


@functools.lru_cache(maxsize=64)
def _second(s, pattern):
    return time.strftime(pattern, time.gmtime(s))


def stamp(us, pattern, frac=3, sep="."):
    """`pattern` (strftime) of the second, then `sep` and `frac` digits of the fraction."""
    s, sub = divmod(us, 1_000_000)
    text = _second(s, pattern)
    if frac == 0:
        return text
    return f"{text}{sep}{sub // 10 ** (6 - frac):0{frac}d}"


def uuid4(rng):
    g = rng.getrandbits
    return "%08x-%04x-4%03x-%x%03x-%012x" % (g(32), g(16), g(12), 8 + g(2), g(12), g(48))


def hexid(rng, digits):
    return "%0*x" % (digits, rng.getrandbits(4 * digits))


ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of Kubernetes' generated name suffixes


def k8s_suffix(rng, n):
    return "".join(ALNUM[rng.getrandbits(5) % 27] for _ in range(n))


def ipv4(rng, private=False):
    if private:
        return f"10.{rng.choice((64, 64, 64, 68, 72))}.{rng.randrange(0, 64)}.{rng.randrange(2, 255)}"
    a = rng.choice((23, 31, 37, 45, 46, 62, 66, 73, 78, 81, 84, 86, 89, 91, 93, 95, 98, 103, 109, 112,
                    118, 121, 125, 141, 146, 151, 157, 162, 172, 176, 178, 185, 188, 193, 195, 197, 203, 212, 213, 217))
    return f"{a}.{rng.randrange(0, 256)}.{rng.randrange(0, 256)}.{rng.randrange(1, 255)}"


def ipv6(rng):
    return "2%03x:%x:%x:%x::%x" % (rng.choice((0x001, 0x003, 0x400, 0x600, 0xa02)), rng.getrandbits(16),
                                   rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(16))


def lognormal_int(rng, median, sigma, low=0):
    return max(low, int(rng.lognormvariate(0, sigma) * median))


def ms(rng, median, sigma=1.0):
    return rng.lognormvariate(0, sigma) * median


WORDS = """the of and to in is for on that with as by at from this be are or an it was which not have
page edit user talk article category template file image revision history search list data query
bot tool label item property statement reference source link redirect language language_code
wiki commons wikidata meta project portal help discussion archive draft sandbox module gadget
village pump main science history geography biology chemistry physics music film album song
river mountain city village county district province station railway airport bridge church
castle school university museum library hospital park lake island coast valley forest desert
war battle treaty king queen emperor president minister party election parliament court law
football cricket tennis olympic championship season league club team player coach stadium
species genus family plant animal bird fish insect mammal reptile fungus bacteria virus
painter writer poet composer actor singer director architect scientist engineer inventor
first second third new old great little north south east west upper lower central national
international american british french german spanish italian russian chinese japanese indian
brazilian canadian australian mexican dutch swedish polish turkish greek egyptian african
list_of timeline index glossary outline bibliography discography filmography awards
""".split()
TITLE_EXTRA = ["São_Paulo", "Zürich", "Kraków", "Ålesund", "Málaga", "Besançon", "Dvořák", "Göttingen",
               "Łódź", "Réunion", "Curaçao", "Reykjavík", "Ærø", "Çanakkale", "Düsseldorf", "Tōkyō"]

TOOL_A = ("wiki", "cite", "geo", "stat", "edit", "page", "ref", "data", "commons", "meta", "lang", "x",
          "pet", "quarry", "book", "map", "ortho", "dup", "link", "cat", "img", "hash", "sign", "wd",
          "lex", "bot", "mix", "art", "list", "fix")
TOOL_B = ("tools", "bot", "watch", "graph", "scan", "finder", "count", "check", "helper", "viewer",
          "sync", "feed", "stats", "hub", "lint", "match", "board", "scope", "merge", "track")


def tool_names(rng, n):
    names = []
    while len(names) < n:
        name = rng.choice(TOOL_A) + rng.choice(("", "-", "")) + rng.choice(TOOL_B)
        if rng.random() < 0.15:
            name += str(rng.randrange(2, 5))
        if name not in names:
            names.append(name)
    return names


def title(rng, zipf_words):
    n = rng.choice((1, 1, 2, 2, 2, 3))
    words = [zipf_words(rng).capitalize() if i == 0 else zipf_words(rng) for i in range(n)]
    if rng.random() < 0.06:
        words.append(rng.choice(TITLE_EXTRA))
    if rng.random() < 0.1:
        words.append(f"({rng.randrange(1900, 2027)})")
    return "_".join(words)


# --------------------------------------------------------------------------- java

JAVA_APP = "com.example.shop"
JAVA_TAIL = """org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1011)
org.springframework.web.servlet.FrameworkServlet.do{M}(FrameworkServlet.java:{L})
jakarta.servlet.http.HttpServlet.service(HttpServlet.java:{H})
org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)
jakarta.servlet.http.HttpServlet.service(HttpServlet.java:658)
org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:205)
org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)
org.apache.tomcat.websocket.server.WsFilter.doFilter(WsFilter.java:51)
org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174)
org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.access.intercept.AuthorizationFilter.doFilter(AuthorizationFilter.java:100)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.access.ExceptionTranslationFilter.doFilter(ExceptionTranslationFilter.java:126)
org.springframework.security.web.access.ExceptionTranslationFilter.doFilter(ExceptionTranslationFilter.java:120)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.session.SessionManagementFilter.doFilter(SessionManagementFilter.java:131)
org.springframework.security.web.session.SessionManagementFilter.doFilter(SessionManagementFilter.java:85)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.authentication.AnonymousAuthenticationFilter.doFilter(AnonymousAuthenticationFilter.java:100)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.servletapi.SecurityContextHolderAwareRequestFilter.doFilter(SecurityContextHolderAwareRequestFilter.java:179)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.savedrequest.RequestCacheAwareFilter.doFilter(RequestCacheAwareFilter.java:63)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter.doFilterInternal(BearerTokenAuthenticationFilter.java:137)
org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.authentication.logout.LogoutFilter.doFilter(LogoutFilter.java:107)
org.springframework.security.web.authentication.logout.LogoutFilter.doFilter(LogoutFilter.java:93)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.web.filter.CorsFilter.doFilterInternal(CorsFilter.java:91)
org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.header.HeaderWriterFilter.doHeadersAfter(HeaderWriterFilter.java:90)
org.springframework.security.web.header.HeaderWriterFilter.doFilterInternal(HeaderWriterFilter.java:75)
org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.context.SecurityContextHolderFilter.doFilter(SecurityContextHolderFilter.java:82)
org.springframework.security.web.context.SecurityContextHolderFilter.doFilter(SecurityContextHolderFilter.java:69)
org.springframework.security.web.FilterChainProxy$VirtualFilterChain.doFilter(FilterChainProxy.java:374)
org.springframework.security.web.FilterChainProxy.doFilterInternal(FilterChainProxy.java:233)
org.springframework.security.web.FilterChainProxy.doFilter(FilterChainProxy.java:191)
org.springframework.web.filter.DelegatingFilterProxy.invokeDelegate(DelegatingFilterProxy.java:352)
org.springframework.web.filter.DelegatingFilterProxy.doFilter(DelegatingFilterProxy.java:268)
org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174)
org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)
org.springframework.web.filter.RequestContextFilter.doFilterInternal(RequestContextFilter.java:100)
org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)
org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174)
org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)
org.springframework.web.filter.FormContentFilter.doFilterInternal(FormContentFilter.java:93)
org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)
org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174)
org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)
org.springframework.web.filter.CharacterEncodingFilter.doFilterInternal(CharacterEncodingFilter.java:201)
org.springframework.web.filter.OncePerRequestFilter.doFilter(OncePerRequestFilter.java:116)
org.apache.catalina.core.ApplicationFilterChain.internalDoFilter(ApplicationFilterChain.java:174)
org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:149)
org.apache.catalina.core.StandardWrapperValve.invoke(StandardWrapperValve.java:167)
org.apache.catalina.core.StandardContextValve.invoke(StandardContextValve.java:90)
org.apache.catalina.authenticator.AuthenticatorBase.invoke(AuthenticatorBase.java:482)
org.apache.catalina.core.StandardHostValve.invoke(StandardHostValve.java:115)
org.apache.catalina.valves.ErrorReportValve.invoke(ErrorReportValve.java:93)
org.apache.catalina.core.StandardEngineValve.invoke(StandardEngineValve.java:74)
org.apache.catalina.connector.CoyoteAdapter.service(CoyoteAdapter.java:341)
org.apache.coyote.http11.Http11Processor.service(Http11Processor.java:391)
org.apache.coyote.AbstractProcessorLight.process(AbstractProcessorLight.java:63)
org.apache.coyote.AbstractProtocol$ConnectionHandler.process(AbstractProtocol.java:894)
org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1740)
org.apache.tomcat.util.net.SocketProcessorBase.run(SocketProcessorBase.java:52)
org.apache.tomcat.util.threads.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1191)
org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:659)
org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:61)
java.base/java.lang.Thread.run(Thread.java:1583)""".splitlines()
JAVA_PROXY = """org.springframework.aop.framework.CglibAopProxy$CglibMethodInvocation.proceed(CglibAopProxy.java:765)
org.springframework.transaction.interceptor.TransactionInterceptor$1.proceedWithInvocation(TransactionInterceptor.java:123)
org.springframework.transaction.interceptor.TransactionAspectSupport.invokeWithinTransaction(TransactionAspectSupport.java:392)
org.springframework.transaction.interceptor.TransactionInterceptor.invoke(TransactionInterceptor.java:119)
org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:184)
org.springframework.aop.framework.CglibAopProxy$CglibMethodInvocation.proceed(CglibAopProxy.java:765)
org.springframework.aop.framework.CglibAopProxy$DynamicAdvisedInterceptor.intercept(CglibAopProxy.java:717)""".splitlines()
JAVA_MVC = """java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)
java.base/java.lang.reflect.Method.invoke(Method.java:580)
org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:205)
org.springframework.web.method.support.InvocableHandlerMethod.invokeForRequest(InvocableHandlerMethod.java:150)
org.springframework.web.servlet.mvc.method.annotation.ServletInvocableHandlerMethod.invokeAndHandle(ServletInvocableHandlerMethod.java:118)
org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter.invokeHandlerMethod(RequestMappingHandlerAdapter.java:884)
org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter.handleInternal(RequestMappingHandlerAdapter.java:797)
org.springframework.web.servlet.mvc.method.AbstractHandlerMethodAdapter.handle(AbstractHandlerMethodAdapter.java:87)
org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1081)
org.springframework.web.servlet.DispatcherServlet.doService(DispatcherServlet.java:974)""".splitlines()
JAVA_JDBC = """org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)
org.postgresql.core.v3.QueryExecutorImpl.processResults(QueryExecutorImpl.java:2412)
org.postgresql.core.v3.QueryExecutorImpl.execute(QueryExecutorImpl.java:371)
org.postgresql.jdbc.PgStatement.executeInternal(PgStatement.java:502)
org.postgresql.jdbc.PgStatement.execute(PgStatement.java:419)
org.postgresql.jdbc.PgPreparedStatement.executeWithFlags(PgPreparedStatement.java:194)
org.postgresql.jdbc.PgPreparedStatement.executeUpdate(PgPreparedStatement.java:155)
com.zaxxer.hikari.pool.ProxyPreparedStatement.executeUpdate(ProxyPreparedStatement.java:61)
com.zaxxer.hikari.pool.HikariProxyPreparedStatement.executeUpdate(HikariProxyPreparedStatement.java)
org.hibernate.engine.jdbc.internal.ResultSetReturnImpl.executeUpdate(ResultSetReturnImpl.java:194)
org.hibernate.engine.jdbc.batch.internal.NonBatchingBatch.addToBatch(NonBatchingBatch.java:39)
org.hibernate.persister.entity.AbstractEntityPersister.insert(AbstractEntityPersister.java:3390)
org.hibernate.action.internal.EntityInsertAction.execute(EntityInsertAction.java:107)
org.hibernate.engine.spi.ActionQueue.executeActions(ActionQueue.java:616)
org.hibernate.engine.spi.ActionQueue.executeActions(ActionQueue.java:483)
org.hibernate.event.internal.AbstractFlushingEventListener.performExecutions(AbstractFlushingEventListener.java:371)
org.hibernate.event.internal.DefaultFlushEventListener.onFlush(DefaultFlushEventListener.java:40)
org.hibernate.internal.SessionImpl.doFlush(SessionImpl.java:1425)
org.hibernate.internal.SessionImpl.flush(SessionImpl.java:1411)
org.springframework.orm.jpa.JpaTransactionManager.doCommit(JpaTransactionManager.java:562)""".splitlines()
JAVA_HTTPCLIENT = """java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:278)
java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:304)
java.base/sun.nio.ch.NioSocketImpl.read(NioSocketImpl.java:346)
java.base/sun.nio.ch.NioSocketImpl$1.read(NioSocketImpl.java:796)
java.base/java.net.Socket$SocketInputStream.read(Socket.java:1099)
org.apache.hc.core5.http.impl.io.SessionInputBufferImpl.fillBuffer(SessionInputBufferImpl.java:149)
org.apache.hc.core5.http.impl.io.SessionInputBufferImpl.readLine(SessionInputBufferImpl.java:280)
org.apache.hc.core5.http.impl.io.DefaultHttpResponseParser.readHeadLine(DefaultHttpResponseParser.java:83)
org.apache.hc.core5.http.impl.io.AbstractMessageParser.parse(AbstractMessageParser.java:243)
org.apache.hc.core5.http.impl.io.DefaultBHttpClientConnection.receiveResponseHeader(DefaultBHttpClientConnection.java:331)
org.apache.hc.core5.http.impl.io.HttpRequestExecutor.execute(HttpRequestExecutor.java:193)
org.apache.hc.client5.http.impl.classic.InternalExecRuntime.execute(InternalExecRuntime.java:218)
org.apache.hc.client5.http.impl.classic.MainClientExec.execute(MainClientExec.java:107)
org.apache.hc.client5.http.impl.classic.ExecChainElement.execute(ExecChainElement.java:51)
org.apache.hc.client5.http.impl.classic.InternalHttpClient.doExecute(InternalHttpClient.java:174)
org.springframework.http.client.HttpComponentsClientHttpRequest.executeInternal(HttpComponentsClientHttpRequest.java:95)
org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:872)
org.springframework.web.client.RestTemplate.execute(RestTemplate.java:790)
org.springframework.web.client.RestTemplate.getForObject(RestTemplate.java:380)""".splitlines()

JAVA_SERVICES = {  # class -> methods (with a base line number) that appear on stacks and in messages
    "order.OrderService": ["createOrder", "applyDiscounts", "reserveStock", "findByCustomer", "cancelOrder"],
    "order.OrderController": ["create", "list", "get", "cancel"],
    "payment.PaymentService": ["authorize", "capture", "refund"],
    "payment.StripeGateway": ["charge", "createIntent"],
    "inventory.InventoryClient": ["reserve", "availability", "release"],
    "catalog.ProductService": ["findBySku", "search", "updatePrice"],
    "catalog.ProductController": ["get", "search"],
    "customer.CustomerService": ["findById", "updateAddress", "loyaltyPoints"],
    "shipping.ShipmentService": ["schedule", "track", "label"],
    "auth.TokenService": ["validate", "refresh"],
}
JAVA_EXC = [  # (exception, message template, which inner stack, caused-by)
    ("org.springframework.dao.DataIntegrityViolationException",
     'could not execute statement [ERROR: duplicate key value violates unique constraint "orders_pkey"\n  Detail: Key (id)=({n}) already exists.] [insert into orders (created_at,customer_id,status,total,id) values (?,?,?,?,?)]; SQL [insert into orders (created_at,customer_id,status,total,id) values (?,?,?,?,?)]; constraint [orders_pkey]',
     JAVA_JDBC, "org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint \"orders_pkey\""),
    ("org.springframework.web.client.ResourceAccessException",
     'I/O error on GET request for "http://inventory-service:8080/api/v1/stock/{sku}": Read timed out',
     JAVA_HTTPCLIENT, "java.net.SocketTimeoutException: Read timed out"),
    ("java.lang.NullPointerException",
     'Cannot invoke "com.example.shop.customer.Address.getCountryCode()" because the return value of "com.example.shop.customer.Customer.getShippingAddress()" is null',
     None, None),
    ("java.lang.IllegalStateException", "Order {n} is already {state}", None, None),
    ("com.example.shop.payment.PaymentDeclinedException", "Payment declined for order {n}: card_declined (insufficient_funds)",
     None, None),
    ("org.springframework.orm.ObjectOptimisticLockingFailureException",
     "Row was updated or deleted by another transaction (or unsaved-value mapping was incorrect) : [com.example.shop.inventory.StockItem#{n}]",
     JAVA_JDBC, "org.hibernate.StaleObjectStateException: Row was updated or deleted by another transaction (or unsaved-value mapping was incorrect) : [com.example.shop.inventory.StockItem#{n}]"),
]
JAVA_LOGGERS = Zipf(["c.e.shop.order.OrderController", "c.e.shop.order.OrderService", "c.e.s.catalog.ProductService",
                     "c.e.shop.payment.PaymentService", "c.e.s.inventory.InventoryClient", "c.e.s.customer.CustomerService",
                     "c.e.shop.shipping.ShipmentService", "c.e.shop.auth.TokenService", "c.e.shop.web.RequestLoggingFilter",
                     "com.zaxxer.hikari.pool.HikariPool", "c.e.shop.jobs.SessionCleanupJob", "o.s.web.servlet.DispatcherServlet",
                     "o.h.engine.jdbc.spi.SqlExceptionHelper", "c.e.shop.events.OrderEventPublisher"], 0.8)
JAVA_STATES = ("PAID", "SHIPPED", "CANCELLED", "REFUNDED")


def java(rng, clock):
    threads = [f"http-nio-8080-exec-{i}"[-15:] for i in range(1, 201)]
    thread = Zipf(threads, 0.6)
    users = [uuid4(rng) for _ in range(2000)]
    user = Zipf(users, 0.9)
    skus = [f"SKU-{rng.randrange(10000, 99999)}-{rng.choice('ABCDEFGH')}{rng.randrange(10)}" for _ in range(3000)]
    sku = Zipf(skus, 0.9)
    paths = Zipf([("GET", "/api/v1/products/{sku}"), ("GET", "/api/v1/products?q={word}&page={p}"), ("GET", "/api/v1/cart"),
                  ("GET", "/actuator/health"), ("GET", "/api/v1/orders"), ("PUT", "/api/v1/cart"), ("GET", "/api/v1/customers/{cust}"),
                  ("GET", "/api/v1/orders/{order}"), ("POST", "/api/v1/checkout"), ("GET", "/api/v1/shipments/{order}/track"),
                  ("POST", "/api/v1/auth/refresh")], 0.9)
    words = Zipf(WORDS[60:], 1.0)
    order_id = [rng.randrange(4_000_000, 4_100_000)]
    pool = [10, 3]

    def line(level, logger, msg, th=None):
        return f"{stamp(clock.tick(), '%Y-%m-%d %H:%M:%S')} {level:>5} 1 --- [{th or thread(rng):>15}] {logger:<40} : {msg}"

    def frames(cls, n):
        methods = JAVA_SERVICES[cls]
        out = []
        for m in rng.sample(methods, min(n, len(methods))):
            base = 40 + (hash_stable(cls + m) % 300)
            out.append(f"{JAVA_APP}.{cls}.{m}({cls.rsplit('.', 1)[1]}.java:{base + rng.randrange(0, 12)})")
        return out

    def trace(exc_index):
        exc, template, inner, cause = JAVA_EXC[exc_index]
        n = rng.randrange(1000, 999999)
        msg = template.format(n=n, sku=sku(rng), state=rng.choice(JAVA_STATES))
        cls = rng.choice(list(JAVA_SERVICES))
        ctl = cls.rsplit(".", 1)[0] + "." + cls.rsplit(".", 1)[0].capitalize() + "Controller"
        ctl = ctl if ctl in JAVA_SERVICES else "order.OrderController"
        method = rng.choice(("Get", "Post"))
        tail = [f.replace("{M}", method).replace("{L}", "903" if method == "Get" else "914").replace("{H}", "564" if method == "Get" else "658")
                for f in JAVA_TAIL]
        app = frames(cls, rng.randrange(1, 4))
        proxy = [f"{JAVA_APP}.{cls}$$SpringCGLIB$$0.{JAVA_SERVICES[cls][0]}(<generated>)"] + JAVA_PROXY
        top = (inner[: rng.randrange(6, len(inner) + 1)] if inner else [])
        stack = top + app + proxy + frames(ctl, 1) + JAVA_MVC + tail
        out = [f"{exc}: {m}" for m in msg.split("\n")[:1]] + msg.split("\n")[1:]
        out += ["\tat " + f for f in stack]
        if cause:
            cause_msg = cause.format(n=n)
            out.append(f"Caused by: {cause_msg}")
            out += ["\tat " + f for f in (inner or [])[:rng.randrange(3, 9)]]
            out.append(f"\t... {len(stack) - rng.randrange(0, 4)} more")
        return out

    def event():
        r = rng.random()
        if r < 0.30:
            method, path = paths(rng)
            path = path.format(sku=sku(rng), word=words(rng), p=rng.randrange(1, 20), cust=user(rng), order=order_id[0] - rng.randrange(0, 5000))
            status = Weighted([(85, 200), (6, 304), (5, 404), (3, 400), (1, 401)] if method == "GET" else [(80, 200), (10, 201), (7, 400), (3, 409)])(rng)
            return [line("INFO", "c.e.shop.web.RequestLoggingFilter", f"{method} {path} -> {status} in {ms(rng, 18, 0.9):.0f} ms (user={user(rng)})")]
        if r < 0.45:
            order_id[0] += 1
            th = thread(rng)
            n_items = rng.randrange(1, 8)
            return [line("INFO", "c.e.shop.order.OrderController", f"Received order request for customer {user(rng)} with {n_items} items", th),
                    line("DEBUG", "c.e.shop.order.OrderService", f"Reserving stock for {n_items} items: {', '.join(sku(rng) for _ in range(min(n_items, 3)))}", th),
                    line("INFO", "c.e.shop.order.OrderService", f"Order {order_id[0]} created, total={rng.randrange(5, 900)}.{rng.randrange(100):02d} EUR, paymentId=pi_{hexid(rng, 24)}", th)]
        if r < 0.55:
            return [line("INFO", "c.e.shop.payment.PaymentService", f"Payment authorized for order {order_id[0] - rng.randrange(0, 30)} in {ms(rng, 240):.0f} ms (provider=stripe, txn=ch_{hexid(rng, 24)})")]
        if r < 0.63:
            return [line("DEBUG", "c.e.s.catalog.ProductService", f"Cache miss for key product:{sku(rng)}, loading from database")]
        if r < 0.68:
            pool[1] = max(0, min(10, pool[1] + rng.randrange(-2, 3)))
            return [line("DEBUG", "com.zaxxer.hikari.pool.HikariPool", f"HikariPool-1 - Pool stats (total=10, active={pool[1]}, idle={10 - pool[1]}, waiting={max(0, rng.randrange(-6, 3))})", "ari housekeeper")]
        if r < 0.71:
            n = lognormal_int(rng, 40, 1.0)
            return [line("INFO", "c.e.shop.jobs.SessionCleanupJob", "Running scheduled job cleanupExpiredSessions", "scheduling-1"),
                    line("INFO", "c.e.shop.jobs.SessionCleanupJob", f"Removed {n} expired sessions in {ms(rng, 30):.0f} ms", "scheduling-1")]
        if r < 0.75:
            return [line("INFO", "c.e.shop.events.OrderEventPublisher", f"Published OrderCreated for order {order_id[0]} to topic orders.v1 partition {rng.randrange(12)} offset {rng.randrange(1_000_000, 9_000_000)}", "kafka-producer-1")]
        if r < 0.80:
            return [line("INFO", "c.e.shop.auth.TokenService", f"Refreshed access token for client {user(rng)} (expires in 3600 s)")]
        if r < 0.86:
            return [line("INFO", "c.e.s.inventory.InventoryClient", f"Stock for {sku(rng)} at warehouse {rng.choice(('AMS1', 'FRA2', 'DUB1', 'MAD3'))}: {rng.randrange(0, 400)} available, {rng.randrange(0, 30)} reserved")]
        if r < 0.91:
            return [line("WARN", "c.e.s.inventory.InventoryClient", f"Retrying request to inventory-service (attempt {rng.randrange(1, 4)}/3): Read timed out after 2000 ms")]
        if r < 0.95:
            return [line("WARN", "o.h.engine.jdbc.spi.SqlExceptionHelper", "SQL Error: 0, SQLState: 23505"),
                    line("ERROR", "o.h.engine.jdbc.spi.SqlExceptionHelper", f"ERROR: duplicate key value violates unique constraint \"orders_pkey\"")] + \
                   [f"  Detail: Key (id)=({order_id[0] - rng.randrange(0, 20)}) already exists."]
        if r < 0.965:
            return [line("WARN", JAVA_LOGGERS(rng), f"Slow operation detected: {ms(rng, 1800, 0.5):.0f} ms for {rng.choice(('findOrdersByCustomerId', 'searchProducts', 'computeShippingQuote', 'loadCart'))}")]
        idx = rng.randrange(len(JAVA_EXC))
        return [line("ERROR", "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                     f"Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Request processing failed: {JAVA_EXC[idx][0]}] with root cause")] + trace(idx)

    while True:
        yield from event()


def hash_stable(text):
    h = 2166136261
    for ch in text.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


# --------------------------------------------------------------------------- python

PY_SITE = "/usr/local/lib/python3.11/site-packages"
PY_FRAMES = {
    "requests": [(f"{PY_SITE}/requests/api.py", 73, "get", "return request(\"get\", url, params=params, **kwargs)"),
                 (f"{PY_SITE}/requests/api.py", 59, "request", "return session.request(method=method, url=url, **kwargs)"),
                 (f"{PY_SITE}/requests/sessions.py", 589, "request", "resp = self.send(prep, **send_kwargs)"),
                 (f"{PY_SITE}/requests/sessions.py", 703, "send", "r = adapter.send(request, **kwargs)"),
                 (f"{PY_SITE}/requests/adapters.py", 519, "send", "raise ConnectionError(e, request=request)")],
    "urllib3": [(f"{PY_SITE}/urllib3/connectionpool.py", 793, "urlopen", "response = self._make_request("),
                (f"{PY_SITE}/urllib3/connectionpool.py", 491, "_make_request", "raise new_e"),
                (f"{PY_SITE}/urllib3/connectionpool.py", 467, "_make_request", "self._validate_conn(conn)"),
                (f"{PY_SITE}/urllib3/connection.py", 611, "connect", "self.sock = sock = self._new_conn()"),
                (f"{PY_SITE}/urllib3/connection.py", 218, "_new_conn", "raise NewConnectionError(")],
    "django": [(f"{PY_SITE}/django/core/handlers/exception.py", 55, "inner", "response = get_response(request)"),
               (f"{PY_SITE}/django/core/handlers/base.py", 197, "_get_response", "response = wrapped_callback(request, *callback_args, **callback_kwargs)"),
               (f"{PY_SITE}/django/views/decorators/csrf.py", 56, "wrapper_view", "return view_func(*args, **kwargs)"),
               (f"{PY_SITE}/django/views/generic/base.py", 104, "view", "return self.dispatch(request, *args, **kwargs)"),
               (f"{PY_SITE}/rest_framework/views.py", 509, "dispatch", "response = self.handle_exception(exc)"),
               (f"{PY_SITE}/rest_framework/views.py", 469, "handle_exception", "self.raise_uncaught_exception(exc)"),
               (f"{PY_SITE}/rest_framework/views.py", 480, "raise_uncaught_exception", "raise exc"),
               (f"{PY_SITE}/rest_framework/views.py", 506, "dispatch", "response = handler(request, *args, **kwargs)")],
    "celery": [(f"{PY_SITE}/celery/app/trace.py", 477, "trace_task", "R = retval = fun(*args, **kwargs)"),
               (f"{PY_SITE}/celery/app/trace.py", 760, "__protected_call__", "return self.run(*args, **kwargs)")],
    "db": [(f"{PY_SITE}/django/db/models/query.py", 637, "get", "num = len(clone)"),
           (f"{PY_SITE}/django/db/models/query.py", 380, "__len__", "self._fetch_all()"),
           (f"{PY_SITE}/django/db/models/query.py", 1881, "_fetch_all", "self._result_cache = list(self._iterable_class(self))"),
           (f"{PY_SITE}/django/db/models/sql/compiler.py", 1562, "execute_sql", "cursor.execute(sql, params)"),
           (f"{PY_SITE}/django/db/backends/utils.py", 89, "_execute", "return self.cursor.execute(sql, params)"),
           (f"{PY_SITE}/django/db/utils.py", 91, "__exit__", "raise dj_exc_value.with_traceback(traceback) from exc_value")],
}
PY_APP = [("/srv/app/wikistats/views.py", "PageStatsView.get", "stats = compute_page_stats(title, lang=lang)"),
          ("/srv/app/wikistats/stats.py", "compute_page_stats", "revisions = api.fetch_revisions(title, limit=500)"),
          ("/srv/app/wikistats/mwapi.py", "fetch_revisions", "resp = self.session.get(self.endpoint, params=params, timeout=30)"),
          ("/srv/app/wikistats/tasks.py", "refresh_page_stats", "page = Page.objects.get(lang=lang, title=title)"),
          ("/srv/app/wikistats/tasks.py", "sync_recent_changes", "for change in api.recent_changes(since=since):"),
          ("/srv/app/wikistats/models.py", "Page.update_counts", "self.edit_count = data[\"edits\"][\"count\"]")]
PY_ERRORS = [
    (["requests", "urllib3"], "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='{lang}.wikipedia.org', port=443): Max retries exceeded with url: /w/api.php?action=query&format=json&prop=revisions&titles={title}&rvlimit=500 (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f{addr}>: Failed to establish a new connection: [Errno 111] Connection refused'))"),
    (["requests"], "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='{lang}.wikipedia.org', port=443): Read timed out. (read timeout=30)"),
    (["django"], "KeyError: 'edits'"),
    (["django", "db"], "wikistats.models.Page.DoesNotExist: Page matching query does not exist."),
    (["celery", "db"], "django.db.utils.OperationalError: could not translate host name \"tools-db\" to address: Temporary failure in name resolution"),
    (["django"], "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'"),
]
PY_TASKS = Zipf(["wikistats.tasks.refresh_page_stats", "wikistats.tasks.sync_recent_changes", "wikistats.tasks.update_user_counts",
                 "wikistats.tasks.send_digest_email", "wikistats.tasks.rebuild_category_tree", "wikistats.tasks.purge_cache"], 0.9)
LANGS = Zipf(["en", "de", "fr", "es", "ja", "ru", "it", "zh", "pt", "pl", "nl", "sv", "uk", "ar", "fa", "he", "ca", "id", "ko", "cs"], 1.1)


def python(rng, clock):
    words = Zipf(WORDS[24:], 1.0)
    titles = [title(rng, words) for _ in range(4000)]
    page = Zipf(titles, 1.0)
    users = Zipf([f"{w.capitalize()}{rng.choice(('', 'Bot', '_' + str(rng.randrange(1, 999)), str(rng.randrange(70, 99))))}"
                  for w in rng.sample(WORDS, 150)], 1.0)
    workers = Zipf([f"ForkPoolWorker-{i}" for i in range(1, 9)], 0.3)
    pending = []  # celery task ids received and not yet finished

    def ts():
        return stamp(clock.tick(), "%Y-%m-%d %H:%M:%S", 3, ",")

    def tb(kind):
        mods, last = PY_ERRORS[kind]
        out = ["Traceback (most recent call last):"]
        apps = PY_APP[: rng.randrange(2, 4)] if "celery" not in mods else PY_APP[3:5]
        for m in mods:
            if m in ("django", "celery"):
                for f, n, fn, code in PY_FRAMES[m]:
                    out += [f'  File "{f}", line {n}, in {fn}', f"    {code}"]
                for f, fn, code in apps:
                    out += [f'  File "{f}", line {40 + hash_stable(fn) % 200}, in {fn.split(".")[-1]}', f"    {code}"]
            else:
                for f, n, fn, code in PY_FRAMES[m]:
                    out += [f'  File "{f}", line {n}, in {fn}', f"    {code}"]
        if "urllib3" in mods:
            out += ["", "During handling of the above exception, another exception occurred:", "", "Traceback (most recent call last):"]
            for f, n, fn, code in PY_FRAMES["requests"]:
                out += [f'  File "{f}", line {n}, in {fn}', f"    {code}"]
        out.append(last.format(lang=LANGS(rng), title=quote(page(rng)), addr=hexid(rng, 10)))
        return out

    def event():
        r = rng.random()
        if r < 0.05:  # the kubelet's probes
            return [f"[{ts()}] INFO [django.server] \"GET /healthz HTTP/1.1\" 200 2"]
        if r < 0.38:
            lang, t = LANGS(rng), page(rng)
            status = Weighted([(90, 200), (4, 304), (3, 404), (1, 302), (1, 500)])(rng)
            return [f"[{ts()}] INFO [django.server] \"GET /api/v1/stats/{lang}/{quote(t)}?days={rng.choice((7, 30, 30, 90, 365))} HTTP/1.1\" {status} {lognormal_int(rng, 2400, 0.8)}"]
        if r < 0.45:
            return [f"[{ts()}] DEBUG [wikistats.mwapi:{88 + rng.randrange(3)}] GET https://{LANGS(rng)}.wikipedia.org/w/api.php?action=query&prop=revisions&titles={quote(page(rng))}&rvlimit=500&format=json -> 200 in {ms(rng, 180):.0f}ms"]
        if r < 0.55:
            tid = uuid4(rng)
            pending.append((PY_TASKS(rng), tid))
            return [f"[{ts()}: INFO/MainProcess] Task {pending[-1][0]}[{tid}] received"]
        if r < 0.70 and pending:
            name, tid = pending.pop(rng.randrange(len(pending)))
            result = rng.choice(("None", f"{{'pages': {rng.randrange(1, 60)}, 'edits': {rng.randrange(0, 4000)}}}", repr(page(rng))))
            return [f"[{ts()}: INFO/{workers(rng)}] Task {name}[{tid}] succeeded in {ms(rng, 0.8, 1.2):.9f}s: {result}"]
        if r < 0.82:
            return [f"[{ts()}] INFO [wikistats.stats:{120 + rng.randrange(5)}] Computed stats for {LANGS(rng)}:{page(rng)}: {rng.randrange(1, 50000)} revisions, {rng.randrange(1, 3000)} editors, top editor {users(rng)}"]
        if r < 0.87:
            return [f"[{ts()}] INFO [wikistats.stream] recentchange {LANGS(rng)}wiki rev {rng.randrange(1_200_000_000, 1_290_000_000)} by {users(rng)} on {page(rng)} ({rng.choice(('+', '-'))}{lognormal_int(rng, 120, 1.5)} bytes)"]
        if r < 0.91:
            return [f"{PY_SITE}/urllib3/connectionpool.py:1100: InsecureRequestWarning: Unverified HTTPS request is being made to host 'tools-redis'. Adding certificate verification is strongly advised. See: https://urllib3.readthedocs.io/en/latest/advanced-usage.html#tls-warnings",
                    "  warnings.warn("]
        if r < 0.95:
            return [f"[{ts()}] WARNING [wikistats.mwapi:{140 + rng.randrange(3)}] maxlag: {rng.randrange(5, 20)} seconds lagged, retrying in {rng.choice((5, 5, 10))} s (attempt {rng.randrange(1, 4)}/5)"]
        if r < 0.97:
            return [f"[{ts()}] INFO [gunicorn.error] Booting worker with pid: {rng.randrange(100, 30000)}"] if rng.random() < 0.3 else \
                   [f"[{ts()}] INFO [wikistats.cache] redis: {rng.randrange(100, 5000)} keys expired, hit ratio {rng.uniform(0.6, 0.99):.2f}"]
        kind = rng.randrange(len(PY_ERRORS))
        if PY_ERRORS[kind][0][0] == "celery" and pending:
            name, tid = pending.pop(0)
            head = f"[{ts()}: ERROR/{workers(rng)}] Task {name}[{tid}] raised unexpected: {PY_ERRORS[kind][1].split(':')[0]}(...)"
        else:
            head = f"[{ts()}] ERROR [django.request:241] Internal Server Error: /api/v1/stats/{LANGS(rng)}/{quote(page(rng))}"
        return [head] + tb(kind)

    while True:
        yield from event()


# --------------------------------------------------------------------------- access

UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests/2.32.3",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36",
    "curl/8.5.0",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Pywikibot/9.5.0 (ptwiki:User:ExampleBot) requests/2.32.3 Python/3.11.2.final.0",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Wget/1.21.3",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "WikiStatsClient/1.4 (https://wikistats.toolforge.org; tools.wikistats@toolforge.org)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
    "okhttp/4.12.0",
]
STATIC = ["/static/css/main.{h}.css", "/static/js/main.{h}.js", "/static/js/vendor.{h}.js", "/static/js/chart.{h}.js",
          "/static/img/logo.svg", "/static/img/wikimedia-button.png", "/static/fonts/inter-var.woff2", "/favicon.ico"]
SCAN_UAS = ["Mozilla/5.0 zgrab/0.x", "Mozilla/5.0 (l9scan/2.0.; +https://leakix.net)", "Go-http-client/1.1", "python-requests/2.31.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36", "-"]
SCANS = ["/.env", "/wp-login.php", "/xmlrpc.php", "/.git/config", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
         "/admin/config.php", "/cgi-bin/luci/;stok=/locale", "/boaform/admin/formLogin", "/actuator/env", "/.aws/credentials"]


def access(rng, clock):
    words = Zipf(WORDS[24:], 1.0)
    clients = [(ipv6(rng) if rng.random() < 0.18 else ipv4(rng)) for _ in range(4000)]
    client = Zipf(clients, 1.05)
    ua_of = {c: Zipf(UAS, 1.1)(rng) for c in clients}  # a client keeps its browser
    titles = Zipf([title(rng, words) for _ in range(6000)], 1.0)
    hashes = [hexid(rng, 8) for _ in STATIC]
    scanner = Zipf([ipv4(rng) for _ in range(200)], 1.2)
    host = "wikistats.toolforge.org"

    def req():
        r = rng.random()
        if r < 0.30:
            i = rng.randrange(len(STATIC))
            return "GET", STATIC[i].format(h=hashes[i]), lognormal_int(rng, 40000, 1.0, 200), Weighted([(80, 200), (20, 304)])(rng)
        if r < 0.62:
            lang = LANGS(rng)
            return "GET", f"/api/v1/stats/{lang}/{quote(titles(rng))}?days={rng.choice((7, 30, 30, 90, 365))}", \
                   lognormal_int(rng, 2400, 0.6, 60), Weighted([(88, 200), (5, 304), (4, 404), (2, 502), (1, 500)])(rng)
        if r < 0.80:
            return "GET", f"/{LANGS(rng)}/{quote(titles(rng))}", lognormal_int(rng, 18000, 0.5, 500), Weighted([(90, 200), (6, 404), (4, 301)])(rng)
        if r < 0.88:
            q = "+".join(words(rng) for _ in range(rng.choice((1, 1, 2, 3))))
            return "GET", f"/search?q={q}&lang={LANGS(rng)}&limit={rng.choice((20, 50, 50, 100))}", lognormal_int(rng, 6000, 0.7, 100), 200
        if r < 0.92:
            return "POST", "/api/v1/jobs", lognormal_int(rng, 90, 0.3, 20), Weighted([(80, 202), (15, 429), (5, 400)])(rng)
        if r < 0.96:
            return "GET", rng.choice(("/robots.txt", "/", "/", "/about", "/healthz")), lognormal_int(rng, 900, 0.5, 50), 200
        return rng.choice(("GET", "GET", "POST")), rng.choice(SCANS), rng.choice((153, 162, 548)), 404  # a scanner

    def event():
        if rng.random() < 0.04:  # the kubelet's probes, straight to the pod
            return [f'192.168.{rng.choice((17, 17, 23))}.1 - - [{stamp(clock.tick(), "%d/%b/%Y:%H:%M:%S +0000", 0)}] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29" 0.001 0.001']
        c = client(rng)
        method, path, size, status = req()
        if status == 304:
            size = 0
        ref = "-" if rng.random() < 0.45 else (f"https://{host}/{LANGS(rng)}/{quote(titles(rng))}" if rng.random() < 0.7
                                               else rng.choice(("https://www.google.com/", "https://en.wikipedia.org/", "https://duckduckgo.com/")))
        rt = ms(rng, 0.02 if path.startswith("/static") else 0.12, 1.0)
        upstream = "-" if path.startswith("/static") else f"{rt * 0.97:.3f}"
        proto = "HTTP/2.0" if rng.random() < 0.6 else "HTTP/1.1"
        ua = ua_of[c]
        if status == 404 and size in (153, 162, 548):
            c, ua, ref = scanner(rng), rng.choice(SCAN_UAS), "-"
        return [f'{c} - - [{stamp(clock.tick(), "%d/%b/%Y:%H:%M:%S +0000", 0)}] "{method} {path} {proto}" {status} {size} "{ref}" "{ua}" {rt:.3f} {upstream}']

    while True:
        yield from event()


# --------------------------------------------------------------------------- json

JSON_ROUTES = Zipf([("GET", "/v2/products/{id}"), ("GET", "/v2/products"), ("POST", "/v2/cart/items"), ("GET", "/v2/cart"),
                    ("GET", "/v2/recommendations/{id}"), ("POST", "/v2/checkout"), ("GET", "/v2/users/{id}/orders"),
                    ("PATCH", "/v2/users/{id}"), ("GET", "/healthz"), ("DELETE", "/v2/cart/items/{id}")], 0.9)
JSON_QUERIES = ["SELECT id, name, price_cents, currency, stock FROM products WHERE id = $1",
                "SELECT p.id, p.name, p.price_cents FROM products p JOIN categories c ON c.id = p.category_id WHERE c.slug = $1 ORDER BY p.rank LIMIT $2",
                "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3) ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity",
                "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20",
                "UPDATE users SET last_seen_at = now() WHERE id = $1"]
JSON_CALLERS = {"request started": "httpserver/middleware.go:64", "request completed": "httpserver/middleware.go:91",
                "db query": "store/postgres.go:212", "cache hit": "cache/redis.go:88", "cache miss": "cache/redis.go:95",
                "published event": "events/kafka.go:133", "upstream call failed": "clients/pricing.go:157",
                "rate limited": "httpserver/ratelimit.go:48", "token verified": "auth/jwt.go:120"}


def jsonlog(rng, clock):
    users = Zipf([f"usr_{k8s_suffix(rng, 12)}" for _ in range(5000)], 0.9)
    tenants = Zipf(["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "soylent"], 1.0)
    products = Zipf([rng.randrange(100000, 999999) for _ in range(8000)], 0.8)
    pods = [f"catalog-api-7d9f8b6c{k8s_suffix(rng, 2)}-{k8s_suffix(rng, 5)}" for _ in range(4)]
    active = []
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def base(level, msg, req=None):
        us = clock.tick()
        d = {"level": level, "ts": stamp(us, "%Y-%m-%dT%H:%M:%S", 6) + "Z", "caller": JSON_CALLERS[msg], "msg": msg,
             "service": "catalog-api", "version": "1.14.2", "pod": req["pod"] if req else rng.choice(pods)}
        if req:
            d.update(trace_id=req["trace"], span_id=hexid(rng, 16), request_id=req["id"])
        return d

    def new_request():
        method, route = JSON_ROUTES(rng)
        pid = products(rng)
        return dict(id=uuid4(rng), trace=hexid(rng, 32), method=method, route=route, path=route.replace("{id}", str(pid)),
                    user=users(rng), tenant=tenants(rng), ip=ipv4(rng, private=True), pid=pid, pod=rng.choice(pods),
                    steps=rng.randrange(1, 5), t=0.0)

    def event():
        if len(active) < 6 or rng.random() < 0.15:
            req = new_request()
            active.append(req)
            d = base("info", "request started", req)
            d["http"] = {"method": req["method"], "path": req["path"], "remote_addr": f"{req['ip']}:{rng.randrange(30000, 61000)}",
                         "user_agent": rng.choice(("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                                                   "shop-ios/4.12.1 (iPhone15,2; iOS 18.1)", "shop-android/4.12.0 (SM-S918B; Android 14)", "Go-http-client/2.0"))}
            return [dumps(d)]
        req = active[rng.randrange(len(active))]
        if req["steps"] > 0:
            req["steps"] -= 1
            r = rng.random()
            if r < 0.45:
                dur = ms(rng, 1.8, 1.0)
                req["t"] += dur
                d = base("debug", "db query", req)
                d["db"] = {"system": "postgresql", "statement": rng.choice(JSON_QUERIES), "rows": lognormal_int(rng, 3, 1.2), "duration_ms": round(dur, 3)}
            elif r < 0.70:
                d = base("debug", rng.choice(("cache hit", "cache hit", "cache miss")), req)
                d["cache"] = {"key": f"product:{req['pid']}:v3", "ttl_s": rng.choice((300, 300, 3600))}
            elif r < 0.80:
                d = base("debug", "token verified", req)
                d["user"] = {"id": req["user"], "tenant": req["tenant"], "scopes": ["catalog:read", "cart:write"], "exp": START + 3600 + rng.randrange(3600)}
            elif r < 0.90:
                d = base("info", "published event", req)
                d["event"] = {"type": "cart.updated", "topic": "cart-events", "partition": rng.randrange(12), "offset": rng.randrange(10**7, 10**8), "key": req["user"]}
            elif r < 0.97:
                d = base("warn", "upstream call failed", req)
                d["upstream"] = {"service": "pricing", "url": f"http://pricing.shop.svc.cluster.local:8080/v1/prices/{req['pid']}", "attempt": rng.randrange(1, 4)}
                d["error"] = rng.choice(("context deadline exceeded", "dial tcp 10.96.14.2:8080: connect: connection refused",
                                         "unexpected status 503 Service Unavailable"))
            else:
                d = base("warn", "rate limited", req)
                d["limit"] = {"key": req["tenant"], "limit": 100, "window_s": 1, "remaining": 0}
            return [dumps(d)]
        active.remove(req)
        status = Weighted([(85, 200), (5, 201), (4, 404), (3, 400), (2, 500), (1, 503)])(rng)
        level = "error" if status >= 500 else "info"
        d = base(level, "request completed", req)
        d["http"] = {"method": req["method"], "path": req["path"], "route": req["route"], "status": status,
                     "bytes": lognormal_int(rng, 1800, 0.9) if status < 300 else rng.randrange(40, 200)}
        d["duration_ms"] = round(req["t"] + ms(rng, 4, 0.8), 3)
        d["user"] = {"id": req["user"], "tenant": req["tenant"]}
        if status >= 500:
            d["error"] = "pricing: context deadline exceeded"
            d["stacktrace"] = ("github.com/example/catalog-api/internal/httpserver.(*Server).handleError\n\t/src/internal/httpserver/errors.go:41\n"
                               "github.com/example/catalog-api/internal/httpserver.(*Server).Routes.func3\n\t/src/internal/httpserver/routes.go:88\n"
                               "net/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2220")
        return [dumps(d)]

    while True:
        yield from event()


# --------------------------------------------------------------------------- build

PIP_PKGS = [("Django", "5.1.3"), ("djangorestframework", "3.15.2"), ("requests", "2.32.3"), ("urllib3", "2.2.3"), ("certifi", "2024.8.30"),
            ("charset-normalizer", "3.4.0"), ("idna", "3.10"), ("celery", "5.4.0"), ("kombu", "5.4.2"), ("redis", "5.2.0"),
            ("psycopg2-binary", "2.9.10"), ("gunicorn", "23.0.0"), ("mwparserfromhell", "0.6.6"), ("pywikibot", "9.5.0"),
            ("numpy", "2.1.3"), ("pandas", "2.2.3"), ("python-dateutil", "2.9.0.post0"), ("pytz", "2024.2"), ("six", "1.16.0"),
            ("Flask", "3.1.0"), ("Werkzeug", "3.1.3"), ("Jinja2", "3.1.4"), ("MarkupSafe", "3.0.2"), ("itsdangerous", "2.2.0"),
            ("click", "8.1.7"), ("blinker", "1.9.0"), ("sqlparse", "0.5.2"), ("asgiref", "3.8.1"), ("toolforge", "6.0.0"),
            ("PyMySQL", "1.1.1"), ("cryptography", "43.0.3"), ("cffi", "1.17.1"), ("pycparser", "2.22"), ("lxml", "5.3.0"),
            ("beautifulsoup4", "4.12.3"), ("soupsieve", "2.6"), ("PyYAML", "6.0.2"), ("packaging", "24.2"), ("billiard", "4.2.1"),
            ("vine", "5.1.0"), ("amqp", "5.3.1"), ("tzdata", "2024.2"), ("oauthlib", "3.2.2"), ("requests-oauthlib", "2.0.0"),
            ("mwoauth", "0.4.0"), ("PyJWT", "2.10.0"), ("sentry-sdk", "2.19.0"), ("prometheus-client", "0.21.0")]
NPM_DEPRECATED = ["inflight@1.0.6: This module is not supported, and leaks memory. Do not use it. Check out lru-cache if you want a good and tested way to coalesce async requests by a key value, which is much more comprehensive and powerful.",
                  "glob@7.2.3: Glob versions prior to v9 are no longer supported",
                  "rimraf@3.0.2: Rimraf versions prior to v4 are no longer supported",
                  "@humanwhocodes/config-array@0.13.0: Use @eslint/config-array instead",
                  "stable@0.1.8: Modern JS already guarantees Array#sort() is a stable sort, so this library is deprecated. See the compatibility table on MDN: https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Global_Objects/Array/sort#browser_compatibility",
                  "abab@2.0.6: Use your platform's native atob() and btoa() methods instead",
                  "domexception@4.0.0: Use your platform's native DOMException instead",
                  "eslint@8.57.1: This version is no longer supported. Please see https://eslint.org/version-support for other options."]
C_FILES = ["src/parser.c", "src/lexer.c", "src/tokenizer.c", "src/tree.c", "src/buffer.c", "src/utf8.c", "src/hash.c", "src/diff.c",
           "src/wikitext.c", "src/template.c", "src/module.c", "src/render.c", "src/cache.c", "src/compress.c", "src/io.c"]
CPP_DIRS = ["core", "net", "storage", "index", "query", "util"]
CPP_FILES = ["manager", "session", "reader", "writer", "btree", "page", "planner", "executor", "scanner", "buffer", "config", "logger",
             "thread_pool", "http_client", "json", "string_util", "hash_table", "serializer"]
CRATES = [("libc", "0.2.164"), ("proc-macro2", "1.0.92"), ("unicode-ident", "1.0.14"), ("quote", "1.0.37"), ("syn", "2.0.89"),
          ("serde", "1.0.215"), ("serde_derive", "1.0.215"), ("serde_json", "1.0.133"), ("itoa", "1.0.14"), ("memchr", "2.7.4"),
          ("ryu", "1.0.18"), ("cfg-if", "1.0.0"), ("autocfg", "1.4.0"), ("bytes", "1.9.0"), ("pin-project-lite", "0.2.15"),
          ("tokio", "1.41.1"), ("mio", "1.0.2"), ("socket2", "0.5.8"), ("futures-core", "0.3.31"), ("tracing", "0.1.41"),
          ("regex-syntax", "0.8.5"), ("aho-corasick", "1.1.3"), ("regex-automata", "0.4.9"), ("regex", "1.11.1"), ("hyper", "1.5.1"),
          ("http", "1.1.0"), ("clap", "4.5.21"), ("anyhow", "1.0.93"), ("thiserror", "2.0.3"), ("chrono", "0.4.38")]
GO_MODS = ["github.com/prometheus/client_golang v1.20.5", "golang.org/x/sys v0.27.0", "google.golang.org/protobuf v1.35.2",
           "k8s.io/client-go v0.31.3", "k8s.io/apimachinery v0.31.3", "github.com/spf13/cobra v1.8.1", "go.uber.org/zap v1.27.0",
           "github.com/go-logr/logr v1.4.2", "golang.org/x/net v0.31.0", "github.com/google/uuid v1.6.0", "sigs.k8s.io/yaml v1.4.0"]


def build(rng, clock):
    """Builds one after another, each in one of two styles: BuildKit's plain progress (a third of them: "#<step>
    <seconds> <text>", a timing on every line) or the Tekton + buildpacks steps of Toolforge's
    build service ("[step-build] <text>"). Each build runs 2-4 phases: pip, npm + webpack, a C
    extension, a cmake project, cargo, go."""
    tools = tool_names(rng, 40)

    def pip_phase():
        lines = []
        reqs = rng.sample(PIP_PKGS, rng.randrange(12, len(PIP_PKGS)))
        for i, (name, ver) in enumerate(reqs):
            if rng.random() < 0.25:
                lines.append(f"Requirement already satisfied: {name.lower()}>={ver.split('.')[0]}.0 in /usr/local/lib/python3.11/site-packages (from -r requirements.txt (line {i + 1})) ({ver})")
                continue
            lines.append(f"Collecting {name}=={ver} (from -r requirements.txt (line {i + 1}))")
            size = lognormal_int(rng, 300, 1.4, 8)
            wheel = f"{name.replace('-', '_')}-{ver}-py3-none-any.whl" if rng.random() < 0.7 else \
                f"{name.replace('-', '_')}-{ver}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
            lines.append(f"  Downloading {wheel} ({size / 1000:.1f} MB)" if size > 1000 else f"  Downloading {wheel} ({size} kB)")
            if size > 1000:
                lines.append(f"     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ {size / 1000:.1f}/{size / 1000:.1f} MB {ms(rng, 20, 0.6):.1f} MB/s eta 0:00:00")
        lines.append("Installing collected packages: " + ", ".join(n for n, _ in reqs))
        lines.append("Successfully installed " + " ".join(f"{n}-{v}" for n, v in reqs))
        lines.append("WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager. It is recommended to use a virtual environment instead: https://pip.pypa.io/warnings/venv")
        return "pip install --no-cache-dir -r requirements.txt", lines

    def npm_phase():
        lines = [f"npm warn deprecated {d}" for d in rng.sample(NPM_DEPRECATED, rng.randrange(3, len(NPM_DEPRECATED)))]
        n = rng.randrange(700, 1600)
        v = rng.randrange(0, 12)
        lines += ["", f"added {n} packages, and audited {n + 1} packages in {rng.randrange(8, 60)}s", "",
                  f"{rng.randrange(100, 300)} packages are looking for funding", "  run `npm fund` for details", "",
                  f"{v} vulnerabilities ({v // 2} moderate, {v - v // 2} high)" if v else "found 0 vulnerabilities",
                  "", "> wikistats-frontend@2.3.0 build", "> webpack --mode production", ""]
        total, done = rng.randrange(500, 900), 0
        for pct in range(10, 70, rng.randrange(2, 6)):
            done = min(total, done + rng.randrange(5, 40))
            lines.append(f"<s> [webpack.Progress] {pct}% building {done}/{total} modules {rng.randrange(1, 4)} active "
                         f"{rng.choice(('./src/components', './node_modules/react-dom/cjs', './node_modules/chart.js/dist', './src/pages', './node_modules/@babel/runtime/helpers'))}/{rng.choice(WORDS[60:])}.js")
        for pct, what in ((70, "sealing"), (75, "sealing module optimization"), (80, "sealing chunk ids"), (88, "sealing asset processing TerserPlugin"),
                          (92, "sealing asset processing"), (95, "emitting emit"), (98, "emitting after emit"), (100, "")):
            lines.append(f"<s> [webpack.Progress] {pct}% {what}".rstrip())
        for name in ("main", "vendors", "runtime", "chart", "styles"):
            lines.append(f"asset {name}.{hexid(rng, 20)}.js {rng.randrange(1, 400)} KiB [emitted] [immutable] [minimized]{' [big]' if name == 'vendors' else ''} (name: {name})")
        lines += [f"orphan modules {rng.randrange(100, 900)} KiB [orphan] {rng.randrange(50, 200)} modules",
                  f"runtime modules {rng.randrange(2, 9)}.{rng.randrange(10)} KiB {rng.randrange(8, 16)} modules",
                  f"modules by path ./node_modules/ {rng.randrange(400, 2000)} KiB {rng.randrange(200, 900)} modules",
                  f"modules by path ./src/ {rng.randrange(40, 300)} KiB {rng.randrange(40, 200)} modules", "",
                  "WARNING in asset size limit: The following asset(s) exceed the recommended size limit (244 KiB).",
                  "This can impact web performance.", "",
                  f"webpack 5.96.1 compiled with {rng.randrange(1, 4)} warnings in {rng.randrange(8000, 60000)} ms"]
        return "npm ci && npm run build", lines

    def c_phase():
        lines = ["running build_ext", "building 'wikiparse._native' extension", "creating build/temp.linux-x86_64-cpython-311/src"]
        for f in rng.sample(C_FILES, rng.randrange(6, len(C_FILES))):
            lines.append(f"gcc -Wno-unused-result -Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall -fPIC -Iinclude -I/usr/local/include/python3.11 -c {f} -o build/temp.linux-x86_64-cpython-311/{f[:-2]}.o -std=c11 -O3 -march=x86-64-v2")
            if rng.random() < 0.3:
                line, col = rng.randrange(20, 900), rng.randrange(5, 40)
                var = rng.choice(("len", "i", "node", "buf", "ret", "tmp", "pos", "flags"))
                w = rng.choice((f"unused variable '{var}' [-Wunused-variable]",
                                f"comparison of integer expressions of different signedness: 'int' and 'size_t' {{aka 'long unsigned int'}} [-Wsign-compare]",
                                f"'{var}' may be used uninitialized [-Wmaybe-uninitialized]"))
                lines += [f"{f}: In function '{rng.choice(('parse_node', 'emit_token', 'buffer_grow', 'hash_insert', 'render_template'))}':",
                          f"{f}:{line}:{col}: warning: {w}",
                          f"  {line} |     {rng.choice(('size_t', 'int', 'char *', 'node_t *'))} {var} = {rng.choice(('0', 'NULL', 'strlen(s)', 'buf->len'))};",
                          f"      |     {' ' * col}^~~~"]
        lines.append("gcc -shared build/temp.linux-x86_64-cpython-311/src/*.o -L/usr/local/lib -o build/lib.linux-x86_64-cpython-311/wikiparse/_native.cpython-311-x86_64-linux-gnu.so")
        return "python setup.py build_ext --inplace", lines

    def cmake_phase():
        lines = []
        files = [(d, f) for d in CPP_DIRS for f in rng.sample(CPP_FILES, rng.randrange(3, 8))]
        for i, (d, f) in enumerate(files):
            pct = f"[{100 * (i + 1) // (len(files) + 2):3d}%]"
            lines.append(f"{pct} Building CXX object src/{d}/CMakeFiles/{d}.dir/{f}.cpp.o")
            if rng.random() < 0.08:
                lines.append(f"/src/src/{d}/{f}.cpp:{rng.randrange(20, 700)}:{rng.randrange(5, 40)}: warning: unused parameter '{rng.choice(('ctx', 'opts', 'unused', 'len'))}' [-Wunused-parameter]")
            if i + 1 == len(files) or files[i + 1][0] != d:
                lines += [f"{pct} Linking CXX static library lib{d}.a", f"{pct} Built target {d}"]
        lines += ["[100%] Linking CXX executable wikiindex", "[100%] Built target wikiindex"]
        return "cmake --build build -j2", lines

    def cargo_phase():
        crates = rng.sample(CRATES, rng.randrange(15, len(CRATES)))
        lines = ["    Updating crates.io index"] + [f"  Downloaded {name} v{ver}" for name, ver in crates]
        lines.append(f"  Downloaded {len(crates)} crates ({rng.randrange(2, 9)}.{rng.randrange(10)} MB) in {ms(rng, 1.2):.2f}s")
        lines += [f"   Compiling {name} v{ver}" for name, ver in crates] + ["   Compiling wikiindex v0.4.1 (/src)"]
        if rng.random() < 0.4:
            lines += ["warning: unused import: `std::collections::HashMap`", f" --> src/{rng.choice(('index', 'query', 'main'))}.rs:{rng.randrange(1, 20)}:5",
                      "  |", "  = note: `#[warn(unused_imports)]` on by default"]
        lines.append(f"    Finished `release` profile [optimized] target(s) in {rng.randrange(40, 300)}.{rng.randrange(10, 99)}s")
        return "cargo build --release --locked", lines

    def go_phase():
        return "go mod download && go build -o /out/controller ./cmd/controller", \
            [f"go: downloading {m}" for m in rng.sample(GO_MODS, rng.randrange(5, len(GO_MODS)))]

    def buildkit(tool, phases):
        out = []
        for s, text in enumerate(("[internal] load build definition from Dockerfile", "[internal] load metadata for docker.io/library/python:3.11-slim",
                                  "[internal] load .dockerignore", f"[builder 1/9] FROM docker.io/library/python:3.11-slim@sha256:{hexid(rng, 64)}",
                                  "[internal] load build context", "[builder 2/9] WORKDIR /src")):
            out.append(f"#{s + 1} {text}")
            if s == 4:
                out.append(f"#{s + 1} transferring context: {rng.randrange(10, 9000)}.{rng.randrange(10)}kB {ms(rng, 0.3):.1f}s done")
            out.append(f"#{s + 1} {'CACHED' if s in (3, 5) else 'DONE ' + format(ms(rng, 0.2), '.1f') + 's'}")
        step = 7
        for i, (command, lines) in enumerate(phases):
            out.append(f"#{step} [builder {i + 3}/9] RUN {command}")
            t = 0.0
            for text in lines:  # output comes in bursts: most lines a few ms after the one before
                t += rng.uniform(0, 0.004) if rng.random() < 0.8 else ms(rng, 0.3, 1.2)
                out.append(f"#{step} {t:.3f} {text}")
            out.append(f"#{step} DONE {t:.1f}s")
            step += 1
        out += [f"#{step} exporting to image", f"#{step} exporting layers {ms(rng, 3):.1f}s done",
                f"#{step} writing image sha256:{hexid(rng, 64)} done",
                f"#{step} naming to tools-harbor.wmcloud.org/tool-{tool}/tool-{tool}:latest done", f"#{step} DONE {ms(rng, 4):.1f}s"]
        return out

    def buildpacks(tool, phases):
        image = f"tools-harbor.wmcloud.org/tool-{tool}/tool-{tool}:latest"
        day = stamp(clock.tick(), "%Y/%m/%d %H:%M:%S", 0)
        out = [f"[step-prepare] {day} Cloning repository https://gitlab.wikimedia.org/toolforge-repos/{tool} at ref main",
               f"[step-prepare] {day} Successfully cloned \"https://gitlab.wikimedia.org/toolforge-repos/{tool}\" @ \"{hexid(rng, 40)}\" in path \"/workspace/source\"",
               "[step-analyze] Image with name \"" + image + "\" not found" if rng.random() < 0.3 else
               f"[step-analyze] Restoring data for SBOM from previous image",
               "[step-detect] ======== Results ========",
               "[step-detect] pass: heroku/python@0.19.1" if rng.random() < 0.7 else "[step-detect] pass: heroku/nodejs-engine@3.2.1",
               "[step-detect] pass: heroku/procfile@3.1.2",
               "[step-detect] Resolving plan... (try #1)",
               "[step-detect] heroku/python  0.19.1", "[step-detect] heroku/procfile 3.1.2",
               "[step-restore] Restoring metadata for \"heroku/python:python\" from cache",
               "[step-restore] Restoring data for \"heroku/python:pip-cache\" from cache",
               "[step-build] ",
               "[step-build] [Determining Python version]",
               "[step-build] Using Python version 3.11 specified in runtime.txt",
               "[step-build] ",
               "[step-build] [Installing Python]",
               "[step-build] Using cached Python 3.11.10"]
        for command, lines in phases:
            out += ["[step-build] ", f"[step-build] [Running {command}]"]
            out += [f"[step-build] {text}" for text in lines]
        out += ["[step-build] ", "[step-build] ## Procfile Buildpack", "[step-build] - Processes",
                "[step-build]   - web: gunicorn --workers 4 --bind 0.0.0.0:8000 app:app", "[step-build] - Done (finished in 0.003s)",
                f"[step-export] Timer: Exporter started at {stamp(clock.tick(), '%Y-%m-%dT%H:%M:%SZ', 0)}",
                "[step-export] Reusing layer 'heroku/python:python'", "[step-export] Adding layer 'heroku/python:venv'",
                "[step-export] Reusing layer 'buildpacksio/lifecycle:launch.sbom'", "[step-export] Adding 1/1 app layer(s)",
                "[step-export] Reusing layer 'buildpacksio/lifecycle:launcher'", "[step-export] Reusing layer 'buildpacksio/lifecycle:config'",
                "[step-export] Adding label 'io.buildpacks.lifecycle.metadata'", "[step-export] Adding label 'io.buildpacks.build.metadata'",
                "[step-export] Setting default process type 'web'", f"[step-export] Saving {image}...",
                f"[step-export] *** Images (sha256:{hexid(rng, 64)}):", f"[step-export]       {image}",
                f"[step-export] Timer: Exporter ran for {ms(rng, 9):.6f}s and ended at {stamp(clock.tick(), '%Y-%m-%dT%H:%M:%SZ', 0)}",
                "[step-export] Adding cache layer 'heroku/python:pip-cache'", "[step-results] "]
        return out

    phase_kinds = (pip_phase, npm_phase, c_phase, cmake_phase, cargo_phase, go_phase)
    while True:
        clock.tick(3000)  # minutes between builds
        tool = rng.choice(tools)
        phases = [phase() for phase in rng.sample(phase_kinds, rng.randrange(2, 5))]
        for line in (buildkit if rng.random() < 0.35 else buildpacks)(tool, phases):
            clock.tick(rng.choice((0.02, 0.02, 0.02, 0.02, 10)))  # a build prints in bursts, over minutes
            yield line


# --------------------------------------------------------------------------- syslog

SYSLOG_USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj", "olivia",
                "peggy", "rupert", "sybil", "trent", "victor", "walter", "yusuf", "zoe", "ankit", "bea", "chen", "dmitri", "elif"]
SYSLOG_BAD = ["admin", "root", "test", "user", "ubuntu", "oracle", "postgres", "git", "ftpuser", "pi", "guest", "deploy", "support"]
CRON_CMDS = ["command -v debian-sa1 > /dev/null && debian-sa1 1 1", "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.hourly; }",
             "/usr/local/bin/prometheus-node-exporter-textfile-collector", "/usr/local/sbin/nfs-mount-manager check",
             "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
             "/usr/bin/flock -n /var/lock/puppet-run.lock /usr/local/sbin/run-puppet-agent", "/usr/sbin/logrotate /etc/logrotate.conf"]
UNITS = ["apt-daily.service", "apt-daily-upgrade.service", "logrotate.service", "man-db.service", "systemd-tmpfiles-clean.service",
         "prometheus-node-exporter-apt.service", "puppet-agent-timer.service", "export-smart-metrics.service", "motd-news.service"]
UNIT_DESC = {"apt-daily.service": "Daily apt download activities", "apt-daily-upgrade.service": "Daily apt upgrade and clean activities",
             "logrotate.service": "Rotate log files", "man-db.service": "Daily man-db regeneration",
             "systemd-tmpfiles-clean.service": "Cleanup of Temporary Directories",
             "prometheus-node-exporter-apt.service": "Collect apt metrics for prometheus-node-exporter",
             "puppet-agent-timer.service": "Run Puppet agent", "export-smart-metrics.service": "Export SMART metrics",
             "motd-news.service": "Message of the Day"}


def syslog(rng, clock):
    host = "tools-bastion-13"
    users = Zipf(SYSLOG_USERS, 0.9)
    pids = [rng.randrange(2000, 4000000)]
    session = [rng.randrange(100000, 200000)]
    keys = {u: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(43)) for u in SYSLOG_USERS}
    scanners = Zipf([ipv4(rng) for _ in range(300)], 1.2)
    logins = []

    def pid():
        pids[0] += rng.randrange(1, 400)
        return pids[0]

    def ts():  # an event's lines come within milliseconds of each other
        return stamp(clock.tick(0.002), "%b %e %H:%M:%S", 0)

    def h(proc, msg):
        return f"{ts()} {host} {proc}: {msg}"

    def event():
        clock.tick()
        r = rng.random()
        if r < 0.16:
            u, p, ip = users(rng), pid(), ipv4(rng, private=rng.random() < 0.3)
            session[0] += 1
            logins.append((u, p, ip, session[0]))
            port = rng.randrange(32768, 61000)
            return [h(f"sshd[{p}]", f"Accepted publickey for {u} from {ip} port {port} ssh2: ED25519 SHA256:{keys[u]}"),
                    h(f"sshd[{p}]", f"pam_unix(sshd:session): session opened for user {u}(uid={2000 + SYSLOG_USERS.index(u)}) by (uid=0)"),
                    h("systemd-logind[812]", f"New session {session[0]} of user {u}."),
                    h("systemd[1]", f"Started session-{session[0]}.scope - Session {session[0]} of User {u}.")]
        if r < 0.28 and logins:
            u, p, ip, s = logins.pop(rng.randrange(len(logins)))
            return [h(f"sshd[{p}]", f"Received disconnect from {ip} port {rng.randrange(32768, 61000)}:11: disconnected by user"),
                    h(f"sshd[{p}]", f"Disconnected from user {u} {ip} port {rng.randrange(32768, 61000)}"),
                    h(f"sshd[{p}]", f"pam_unix(sshd:session): session closed for user {u}"),
                    h("systemd[1]", f"session-{s}.scope: Deactivated successfully."),
                    h("systemd-logind[812]", f"Session {s} logged out. Waiting for processes to exit."),
                    h("systemd-logind[812]", f"Removed session {s}.")]
        if r < 0.48:
            p, ip, bad = pid(), scanners(rng), rng.choice(SYSLOG_BAD)
            port = rng.randrange(1024, 65000)
            return [h(f"sshd[{p}]", f"Invalid user {bad} from {ip} port {port}"),
                    h(f"sshd[{p}]", f"Connection closed by invalid user {bad} {ip} port {port} [preauth]")] if rng.random() < 0.7 else \
                   [h(f"sshd[{p}]", f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]"),
                    h(f"sshd[{p}]", f"Disconnected from authenticating user root {ip} port {port} [preauth]")]
        if r < 0.62:
            p = pid()
            u = "root" if rng.random() < 0.7 else "prometheus"
            return [h(f"CRON[{p}]", f"pam_unix(cron:session): session opened for user {u}(uid={0 if u == 'root' else 112}) by (uid=0)"),
                    h(f"CRON[{p + 1}]", f"({u}) CMD ({rng.choice(CRON_CMDS)})"),
                    h(f"CRON[{p}]", f"pam_unix(cron:session): session closed for user {u}")]
        if r < 0.72:
            unit = rng.choice(UNITS)
            return [h("systemd[1]", f"Starting {unit} - {UNIT_DESC[unit]}..."),
                    h("systemd[1]", f"{unit}: Deactivated successfully."),
                    h("systemd[1]", f"Finished {unit} - {UNIT_DESC[unit]}."),
                    h("systemd[1]", f"{unit}: Consumed {ms(rng, 0.4, 1.2):.3f}s CPU time.")]
        if r < 0.78:
            qid = "%010X" % rng.getrandbits(40)
            u = users(rng)
            return [h(f"postfix/pickup[{pid()}]", f"{qid}: uid=0 from=<root>"),
                    h(f"postfix/cleanup[{pid()}]", f"{qid}: message-id=<{rng.randrange(10**13, 10**14)}.{rng.randrange(1000, 99999)}@{host}.tools.eqiad1.wikimedia.cloud>"),
                    h(f"postfix/qmgr[1024]", f"{qid}: from=<root@{host}.tools.eqiad1.wikimedia.cloud>, size={rng.randrange(600, 9000)}, nrcpt=1 (queue active)"),
                    h(f"postfix/smtp[{pid()}]", f"{qid}: to=<{u}@toolforge.org>, relay=mx-out1001.wikimedia.org[208.80.154.76]:25, delay={ms(rng, 0.3):.2f}, delays=0.01/0.01/{ms(rng, 0.05):.2f}/{ms(rng, 0.1):.2f}, dsn=2.0.0, status=sent (250 2.0.0 OK  {rng.randrange(1700000000, 1800000000)} {k8s_suffix(rng, 10)}.{rng.randrange(100, 999)} - gsmtp)"),
                    h(f"postfix/qmgr[1024]", f"{qid}: removed")]
        if r < 0.84:
            u = users(rng)
            cmd = rng.choice(("/usr/bin/systemctl restart webservice", "/usr/sbin/service nginx reload", "/usr/bin/journalctl -u puppet-agent",
                              "/usr/local/bin/become " + rng.choice(tool_names(rng, 2)), "/usr/bin/apt-get update"))
            return [h("sudo", f"{u:>8} : TTY=pts/{rng.randrange(0, 40)} ; PWD=/home/{u} ; USER=root ; COMMAND={cmd}"),
                    h(f"sudo[{pid()}]", f"pam_unix(sudo:session): session opened for user root(uid=0) by {u}(uid={2000 + SYSLOG_USERS.index(u)})")]
        if r < 0.89:
            return [h("chronyd[701]", f"Selected source {rng.choice(('208.80.154.50', '208.80.153.51', '91.198.174.25'))} (ntp.eqiad.wmnet)")] if rng.random() < 0.3 else \
                   [h("chronyd[701]", f"System clock wrong by {rng.uniform(-0.002, 0.002):.6f} seconds, adjustment started")]
        if r < 0.93:
            p = pid()
            return [h(f"puppet-agent[{p}]", f"Applied catalog in {ms(rng, 14, 0.3):.2f} seconds"),
                    h(f"puppet-agent[{p}]", f"(/Stage[main]/Profile::Toolforge::Bastion/File[/etc/motd.d/{rng.randrange(10, 99)}-tools]/content) content changed '{{sha256}}{hexid(rng, 64)}' to '{{sha256}}{hexid(rng, 64)}'")] \
                if rng.random() < 0.2 else [h(f"puppet-agent[{p}]", f"Applied catalog in {ms(rng, 14, 0.3):.2f} seconds")]
        if r < 0.97:
            up = (clock.us - START * 1_000_000) / 1e6 + 86400 * 31
            return [h("kernel", f"[{up:.6f}] nfs: server tools-nfs-2.tools.eqiad1.wikimedia.cloud not responding, still trying")] if rng.random() < 0.2 else \
                   [h("kernel", f"[{up:.6f}] audit: type=1400 audit({START + int(up)}.{rng.randrange(1000):03d}:{rng.randrange(1000, 99999)}): apparmor=\"DENIED\" operation=\"open\" class=\"file\" profile=\"/usr/sbin/chronyd\" name=\"/proc/{rng.randrange(100, 99999)}/status\" pid={pid()} comm=\"chronyd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0")]
        return [h(f"systemd[{rng.randrange(1000, 5000)}]", f"Started {rng.choice(('dbus.socket - D-Bus User Message Bus Socket', 'gpg-agent.socket - GnuPG cryptographic agent and passphrase cache', 'Reached target default.target - Main User Target.', 'Startup finished in 87ms.'))}")]

    while True:
        yield from event()


# --------------------------------------------------------------------------- klog

def klog(rng, clock):
    tools = Zipf(tool_names(rng, 600), 0.9)
    deploys = Zipf(["web", "worker", "bot", "irc", "celery", "api", "frontend", "cron"], 1.0)
    nodes = [f"tools-k8s-worker-nfs-{i}" for i in range(1, 80)]
    hashes = {}
    thread_ids = Zipf([1, 13, 14, 15, 17, 22, 23, 31], 0.8)

    def rs_hash(ns, d):  # a deployment's replica set changes on a rollout; its pod when restarted
        key = (ns, d)
        if key not in hashes or rng.random() < 0.02:
            hashes[key] = [f"{rng.randrange(5, 9)}{k8s_suffix(rng, 9)}", k8s_suffix(rng, 5)]
        elif rng.random() < 0.05:
            hashes[key][1] = k8s_suffix(rng, 5)
        return hashes[key]


    def pod_event(ns, d, pod, reason):
        msg = {"Scheduled": lambda: f"Successfully assigned {ns}/{pod} to {rng.choice(nodes)}",
               "Pulled": lambda: "Container image \\\"docker-registry.tools.wmflabs.org/toolforge-python311-sssd-web:latest\\\" already present on machine",
               "Created": lambda: f"Created container {d}", "Started": lambda: f"Started container {d}",
               "Killing": lambda: f"Stopping container {d}",
               "BackOff": lambda: f"Back-off restarting failed container {d} in pod {pod}_{ns}({uuid4(rng)})"}[reason]()
        return head("I", "event.go:389") + f'"Event occurred" object="{ns}/{pod}" fieldPath="spec.containers{{{d}}}" kind="Pod" apiVersion="v1" type="{"Warning" if reason == "BackOff" else "Normal"}" reason="{reason}" message="{msg}"'

    def head(level, file):
        us = clock.tick()
        return f"{level}{stamp(us, '%m%d %H:%M:%S', 6)} {thread_ids(rng):7d} {file}] "

    def event():
        r = rng.random()
        t, d = tools(rng), deploys(rng)
        ns = f"tool-{t}"
        h, suffix = rs_hash(ns, d)
        pod = f"{d}-{h}-{suffix}"
        if r < 0.25:
            return [head("I", "replica_set.go:679") + f'"Finished syncing" logger="replicaset-controller" kind="ReplicaSet" key="{ns}/{d}-{h}" duration="{ms(rng, 0.3, 1.2) * 1000:.3f}µs"']
        if r < 0.38:
            rid = uuid4(rng)
            return [head("I", "controller.go:222") + f'"Reconciling" controller="toolforge-webservice" controllerGroup="toolforge.org" controllerKind="WebService" WebService="{ns}/{t}" namespace="{ns}" name="{t}" reconcileID="{rid}"',
                    head("I", "webservice_controller.go:148") + f'"Ingress up to date" controller="toolforge-webservice" WebService="{ns}/{t}" ingress="{t}-subdomain" host="{t}.toolforge.org" reconcileID="{rid}"']
        if r < 0.48:
            reasons = ["Scheduled", "Pulled", "Created", "Started"] if rng.random() < 0.6 else [rng.choice(("Killing", "BackOff", "BackOff"))]
            return [pod_event(ns, d, pod, reason) for reason in reasons]
        if r < 0.60:
            job = f"{d}-{rng.randrange(29000000, 29100000)}"
            return [head("I", "cronjob_controllerv2.go:526") + f'"Created Job" logger="cronjob-controller" job="{ns}/{job}" cronjob="{ns}/{d}"',
                    head("I", "job_controller.go:566") + f'"enqueueing job" logger="job-controller" key="{ns}/{job}" delay="0s"']
        if r < 0.70:
            return [head("I", "endpointslice_controller.go:310") + f'"Error syncing endpoint slices for service, retrying" logger="endpointslice-controller" key="{ns}/{t}" err="EndpointSlice informer cache is out of date"'] \
                if rng.random() < 0.1 else [head("I", "endpointslicemirroring_controller.go:273") + f'"syncEndpoints" logger="endpointslice-mirroring-controller" key="{ns}/{t}" duration="{ms(rng, 0.05, 0.8) * 1000:.3f}µs"']
        if r < 0.78:
            return [head("E", "controller.go:316") + f'"Reconciler error" err="Operation cannot be fulfilled on deployments.apps \\"{d}\\": the object has been modified; please apply your changes to the latest version and try again" controller="toolforge-webservice" controllerGroup="toolforge.org" controllerKind="WebService" WebService="{ns}/{t}" namespace="{ns}" name="{t}" reconcileID="{uuid4(rng)}"']
        if r < 0.84:
            return [head("I", "garbagecollector.go:534") + f'"Processing item" logger="garbage-collector-controller" item="[v1/Pod, namespace: {ns}, name: {pod}, uid: {uuid4(rng)}]" virtual=false']
        if r < 0.89:
            return [head("W", "warnings.go:70") + "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"]
        if r < 0.93:
            return [head("I", "reflector.go:376") + f'"Caches populated" type="*v1.{rng.choice(("Pod", "Service", "ConfigMap", "Secret", "Job", "Deployment"))}" reflector="k8s.io/client-go@v0.31.3/tools/cache/reflector.go:243"']
        if r < 0.96:
            return [head("I", "leaderelection.go:271") + 'successfully renewed lease kube-system/kube-controller-manager'] if rng.random() < 0.8 else \
                   [head("E", "leaderelection.go:429") + f'Failed to update lock optimistically: Put "https://k8s.tools.eqiad1.wikimedia.cloud:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager?timeout=5s": context deadline exceeded, falling back to slow path']
        return [head("I", "resource_quota_controller.go:476") + f'"syncing resource quota controller with updated resources from discovery" logger="resourcequota-controller" diff="added: [], removed: []"'] \
            if rng.random() < 0.3 else [head("I", "pvc_protection_controller.go:300") + f'"Processing PVC" logger="persistentvolumeclaim-protection-controller" PVC="{ns}/{t}-data"']

    while True:
        yield from event()


# --------------------------------------------------------------------------- postgres

PG_STATEMENTS = [
    "SELECT o.id, o.status, o.total_cents, o.created_at, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.customer_id = {n} AND o.status IN ('paid', 'shipped') ORDER BY o.created_at DESC LIMIT 50",
    "SELECT p.id, p.sku, p.name, p.price_cents, s.quantity FROM products p LEFT JOIN stock s ON s.product_id = p.id AND s.warehouse = '{wh}' WHERE p.category_id = {c} AND p.active ORDER BY p.rank DESC, p.id LIMIT 100 OFFSET {off}",
    "UPDATE stock SET quantity = quantity - {q}, updated_at = now() WHERE product_id = {n} AND warehouse = '{wh}' AND quantity >= {q}",
    "INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ({n}, {m}, {q}, {price})",
    "SELECT count(*) FROM events WHERE created_at >= '2026-11-{day:02d} 00:00:00' AND type = '{evt}'",
    "DELETE FROM sessions WHERE expires_at < now() - interval '7 days'",
    "SELECT date_trunc('hour', created_at) AS hour, count(*), sum(total_cents) FROM orders WHERE created_at > now() - interval '24 hours' GROUP BY 1 ORDER BY 1",
    "WITH recent AS (SELECT customer_id, max(created_at) AS last_order FROM orders GROUP BY customer_id) SELECT c.id, c.email, r.last_order FROM customers c JOIN recent r ON r.customer_id = c.id WHERE r.last_order < now() - interval '{d} days' AND c.marketing_opt_in LIMIT 1000",
    "SELECT id, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED",
    "UPDATE outbox SET published_at = now() WHERE id = ANY($1)",
]
PG_TABLES = ["orders", "order_items", "stock", "sessions", "events", "outbox", "customers", "products"]


def postgres(rng, clock):
    backends = [rng.randrange(1000, 400000) for _ in range(30)]
    backend = Zipf(backends, 0.5)
    apps = {b: rng.choice(("shop-api", "shop-api", "shop-worker", "metabase", "psql")) for b in backends}
    clients = [ipv4(rng, private=True) for _ in range(12)]
    lsn = [0x34A1B2C3D0]
    xid = [rng.randrange(80_000_000, 90_000_000)]

    def ts():  # the lines of one event share its millisecond, or nearly
        return stamp(clock.us + rng.choice((0, 0, 0, 1000)), "%Y-%m-%d %H:%M:%S", 3) + " UTC"

    def p(b, level, msg, user="shop", db="shop"):
        return f"{ts()} [{b}] {user}@{db} {level}:  {msg}"

    def stmt():
        return rng.choice(PG_STATEMENTS).format(n=rng.randrange(100000, 2000000), m=rng.randrange(1000, 99999), c=rng.randrange(1, 300),
                                                wh=rng.choice(("AMS1", "FRA2", "DUB1", "MAD3")), off=100 * rng.randrange(0, 30), q=rng.randrange(1, 6),
                                                price=rng.randrange(100, 90000), day=rng.randrange(1, 30), evt=rng.choice(("page_view", "add_to_cart", "checkout")),
                                                d=rng.choice((30, 60, 90)))

    def event():
        clock.tick()
        r = rng.random()
        b = backend(rng)
        if r < 0.40:
            return [p(b, "LOG", f"duration: {ms(rng, 350, 1.0):.3f} ms  statement: {stmt()}")]
        if r < 0.55:
            s = rng.randrange(1, 40)
            return [p(b, "LOG", f"duration: {ms(rng, 260, 0.9):.3f} ms  execute S_{s}: {stmt()}"),
                    p(b, "DETAIL", f"parameters: $1 = '{rng.randrange(100000, 2000000)}', $2 = '{rng.choice(('paid', 'shipped', 'pending'))}'")]
        if r < 0.70:
            nb = rng.randrange(1000, 400000)
            ip, port = rng.choice(clients), rng.randrange(30000, 61000)
            app = rng.choice(("shop-api", "shop-worker", "metabase", "psql", "pg_dump"))
            return [f"{ts()} [{nb}] [unknown]@[unknown] LOG:  connection received: host={ip} port={port}",
                    p(nb, "LOG", f"connection authenticated: identity=\"shop\" method=scram-sha-256 (/etc/postgresql/16/main/pg_hba.conf:{rng.choice((118, 121))})"),
                    p(nb, "LOG", f"connection authorized: user=shop database=shop application_name={app} SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)")] + \
                   ([p(nb, "LOG", f"disconnection: session time: 0:{rng.randrange(0, 59):02d}:{rng.uniform(0, 59):06.3f} user=shop database=shop host={ip} port={port}")] if rng.random() < 0.8 else [])
        if r < 0.76:
            table = rng.choice(PG_TABLES)
            pages = rng.randrange(1000, 400000)
            return [f"{ts()} [{rng.randrange(1000, 400000)}] LOG:  automatic {'vacuum' if rng.random() < 0.7 else 'analyze'} of table \"shop.public.{table}\": index scans: {rng.randrange(0, 2)}",
                    f"\tpages: 0 removed, {pages} remain, {rng.randrange(1, 3000)} scanned ({rng.uniform(0, 5):.2f}% of total)",
                    f"\ttuples: {rng.randrange(0, 30000)} removed, {rng.randrange(10000, 9000000)} remain, {rng.randrange(0, 500)} are dead but not yet removable",
                    f"\tremovable cutoff: {xid[0]}, which was {rng.randrange(0, 400)} XIDs old when operation ended",
                    f"\tindex scan needed: {rng.randrange(0, 900)} pages from table ({rng.uniform(0, 1):.2f}% of total) had {rng.randrange(0, 9000)} dead item identifiers removed",
                    f"\tavg read rate: {rng.uniform(0, 40):.3f} MB/s, avg write rate: {rng.uniform(0, 20):.3f} MB/s",
                    f"\tbuffer usage: {rng.randrange(100, 90000)} hits, {rng.randrange(0, 3000)} misses, {rng.randrange(0, 2000)} dirtied",
                    f"\tWAL usage: {rng.randrange(0, 9000)} records, {rng.randrange(0, 2000)} full page images, {rng.randrange(0, 9000000)} bytes",
                    f"\tsystem usage: CPU: user: {rng.uniform(0, 1):.2f} s, system: {rng.uniform(0, 0.3):.2f} s, elapsed: {rng.uniform(0, 9):.2f} s"]
        if r < 0.80:
            xid[0] += rng.randrange(1000, 50000)
            lsn[0] += rng.randrange(10**7, 10**9)
            bufs = rng.randrange(500, 40000)
            return [f"{ts()} [62] LOG:  checkpoint starting: time",
                    f"{ts()} [62] LOG:  checkpoint complete: wrote {bufs} buffers ({bufs / 1638.4:.1f}%); 0 WAL file(s) added, 0 removed, {rng.randrange(0, 9)} recycled; write={rng.uniform(10, 270):.3f} s, sync={rng.uniform(0, 0.1):.3f} s, total={rng.uniform(10, 270):.3f} s; sync files={rng.randrange(5, 300)}, longest={rng.uniform(0, 0.02):.3f} s, average={rng.uniform(0, 0.005):.3f} s; distance={rng.randrange(1000, 900000)} kB, estimate={rng.randrange(100000, 900000)} kB; lsn={lsn[0] >> 32:X}/{lsn[0] & 0xFFFFFFFF:08X}, redo lsn={lsn[0] >> 32:X}/{(lsn[0] - rng.randrange(10**6, 10**8)) & 0xFFFFFFFF:08X}"]
        if r < 0.86:
            n, m = rng.randrange(100000, 2000000), rng.randrange(1000, 99999)
            return [p(b, "ERROR", 'duplicate key value violates unique constraint "order_items_order_id_product_id_key"'),
                    p(b, "DETAIL", f"Key (order_id, product_id)=({n}, {m}) already exists."),
                    p(b, "STATEMENT", f"INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ({n}, {m}, {rng.randrange(1, 6)}, {rng.randrange(100, 90000)})")]
        if r < 0.91:
            other = backend(rng)
            return [p(b, "LOG", f"process {b} still waiting for ShareLock on transaction {xid[0] + rng.randrange(0, 3000)} after {1000 + ms(rng, 2, 1.0):.3f} ms"),
                    p(b, "DETAIL", f"Process holding the lock: {other}. Wait queue: {b}."),
                    p(b, "CONTEXT", f"while updating tuple ({rng.randrange(0, 90000)},{rng.randrange(1, 60)}) in relation \"stock\""),
                    p(b, "STATEMENT", stmt())]
        if r < 0.95:
            return [p(b, "ERROR", "canceling statement due to statement timeout"), p(b, "STATEMENT", stmt())]
        if r < 0.97:
            return [f"{ts()} [{rng.randrange(1000, 400000)}] {rng.choice(('postgres', 'admin', 'root'))}@{rng.choice(('postgres', 'shop'))} FATAL:  password authentication failed for user \"{rng.choice(('postgres', 'admin', 'root'))}\"",
                    f"{ts()} [{rng.randrange(1000, 400000)}] {rng.choice(('postgres', 'admin'))}@postgres DETAIL:  Connection matched file \"/etc/postgresql/16/main/pg_hba.conf\" line 121: \"host all all 0.0.0.0/0 scram-sha-256\""]
        return [f"{ts()} [63] LOG:  {rng.choice(('could not receive data from client: Connection reset by peer', 'unexpected EOF on client connection with an open transaction'))}"] \
            if rng.random() < 0.5 else [p(b, "WARNING", "there is no transaction in progress")]

    while True:
        yield from event()


# --------------------------------------------------------------------------- driver

KINDS = {  # name -> (generator, mean milliseconds between events)
    "java": (java, 40.0),
    "python": (python, 60.0),
    "access": (access, 25.0),
    "json": (jsonlog, 15.0),
    "build": (build, 80.0),
    "syslog": (syslog, 2000.0),
    "klog": (klog, 120.0),
    "postgres": (postgres, 300.0),
}


def generate(kind, seed=15, mib=None, lines=None, mean_ms=None, times=False):
    """Yields the lines (str, no newline) of one kind: until about `mib` MiB of text (newlines
    counted) or exactly `lines` lines. `mean_ms` overrides the kind's mean time between events
    (the trickle case writes one line a minute). With `times`, yields (line, microseconds since
    the epoch when the program logged it): the lines of one event (a stack trace, a session's
    lines) share their time, as they reach the container runtime in one burst."""
    gen, default_ms = KINDS[kind]
    rng = _random.Random(f"toolforge-logs corpus {seed} {kind}")
    clock = Clock(rng, mean_ms or default_ms)
    limit = None if mib is None else int(mib * 1024 * 1024)
    size = count = 0
    for line in gen(rng, clock):
        if lines is not None and count >= lines:
            return
        if limit is not None and size >= limit:
            return
        yield (line, clock.us) if times else line
        size += len(line.encode()) + 1
        count += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--mib", type=float, default=8.0, help="size of each kind's file, MiB (default 8)")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    for kind in a.kinds:
        path = os.path.join(a.outdir, f"{kind}.log")
        n = 0
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for line in generate(kind, a.seed, mib=a.mib):
                f.write(line)
                f.write("\n")
                n += 1
        print(f"{path}: {n:,} lines, {os.path.getsize(path):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
