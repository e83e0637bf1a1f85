package deployer.pack;

import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * A request whose body counts the bytes read from it and refuses to read past the upload limit. fileupload's own
 * {@code sizeMax} does the same; this count is our second guard, and it tells a size failure from other read
 * failures when fileupload wraps both in the same exception types.
 */
final class CountingRequest extends HttpServletRequestWrapper {

    private final long max;
    private long count;
    private ServletInputStream body;

    CountingRequest(HttpServletRequest request, long max) {
        super(request);
        this.max = max;
    }

    /** @return true when the body was read up to the limit, i.e. it is at least as long as the limit allows */
    boolean reachedLimit() {
        return count >= max || getContentLengthLong() > max;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
        if (body == null) {
            body = new Counting(super.getInputStream());
        }
        return body;
    }

    private final class Counting extends ServletInputStream {

        private final ServletInputStream in;

        Counting(ServletInputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n;
            try {
                n = in.read(buffer, offset, length);
            } catch (RuntimeException e) {
                // Jetty reports some broken bodies (bad chunking) as unchecked exceptions; they are read failures.
                throw new IOException(e.getMessage(), e);
            }
            if (n > 0) {
                counted(n);
            }
            return n;
        }

        private void counted(int n) throws IOException {
            count += n;
            if (count > max) {
                throw new IOException("the request body passed " + max + " bytes");
            }
        }

        @Override
        public int available() throws IOException {
            return in.available();
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

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
