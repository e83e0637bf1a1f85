package deployer.http;

import deployer.metrics.Metrics;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/** Counts uploads by outcome and the bytes their bodies carried, as read (a chunked body has no length). */
final class UploadMetricsFilter extends HttpFilter {

    private final transient Metrics metrics;

    UploadMetricsFilter(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (!"POST".equals(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        AtomicLong bytes = new AtomicLong();
        try {
            chain.doFilter(new Counting(request, bytes), response);
        } finally {
            metrics.upload(response.getStatus(), bytes.get());
        }
    }

    private static final class Counting extends HttpServletRequestWrapper {
        private final AtomicLong bytes;
        private ServletInputStream counted;

        Counting(HttpServletRequest request, AtomicLong bytes) {
            super(request);
            this.bytes = bytes;
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            if (counted == null) {
                ServletInputStream in = super.getInputStream();
                counted = new ServletInputStream() {
                    @Override
                    public int read() throws IOException {
                        int b = in.read();
                        if (b >= 0) {
                            bytes.incrementAndGet();
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] buffer, int offset, int length) throws IOException {
                        int n = in.read(buffer, offset, length);
                        if (n > 0) {
                            bytes.addAndGet(n);
                        }
                        return n;
                    }

                    @Override
                    public boolean isFinished() {
                        return in.isFinished();
                    }

                    @Override
                    public boolean isReady() {
                        return in.isReady();
                    }

                    @Override
                    public void setReadListener(ReadListener listener) {
                        in.setReadListener(listener);
                    }
                };
            }
            return counted;
        }
    }
}
