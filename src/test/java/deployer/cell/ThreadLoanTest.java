package deployer.cell;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A thread lent to a cell looks like the cell's worker while on loan and keeps nothing of it after: thread-locals,
 * context class loader, interrupt. Runs with the exit guard's agent (surefire's argLine), which opens java.lang.
 */
class ThreadLoanTest {

    static final ThreadLocal<String> SERVER_OWN = new ThreadLocal<>();
    static final ThreadLocal<String> MODEL_OWN = new ThreadLocal<>();
    static final InheritableThreadLocal<String> INHERITED = new InheritableThreadLocal<>();

    final ThreadLoan loan = ThreadLoan.create(2);
    final ClassLoader cellLoader = new URLClassLoader(new URL[0], null);

    @Test
    void onLoanTheThreadHasTheCellsLoaderAndThreadLocalsAndAfterItsOwnAgain() {
        ThreadLoan.Locals cell = new ThreadLoan.Locals();
        SERVER_OWN.set("jetty's");
        ClassLoader own = Thread.currentThread().getContextClassLoader();
        String name = Thread.currentThread().getName();
        List<String> seen = new ArrayList<>();

        boolean lent = loan.tryRun(() -> {
            seen.add("server-own=" + SERVER_OWN.get());
            seen.add("loader-is-cell=" + (Thread.currentThread().getContextClassLoader() == cellLoader));
            MODEL_OWN.set("the model's");
            INHERITED.set("inherited");
            Thread.currentThread().interrupt();
            Thread.currentThread().setName("renamed by the model");
        }, cellLoader, cell);

        assertThat(lent).isTrue();
        assertThat(seen).containsExactly("server-own=null", "loader-is-cell=true");
        assertThat(SERVER_OWN.get()).isEqualTo("jetty's");
        assertThat(MODEL_OWN.get()).as("left on the server's thread").isNull();
        assertThat(INHERITED.get()).isNull();
        assertThat(Thread.currentThread().getContextClassLoader()).isSameAs(own);
        assertThat(Thread.currentThread().getName()).isEqualTo(name);
        assertThat(Thread.interrupted()).as("the deadline's interrupt is cleared").isFalse();

        AtomicReference<String> again = new AtomicReference<>();
        loan.tryRun(() -> again.set(MODEL_OWN.get() + "/" + INHERITED.get()), cellLoader, cell);
        assertThat(again).as("the cell finds its own thread-locals on its next loan").hasValue("the model's/inherited");
        SERVER_OWN.remove();
    }

    @Test
    void anotherCellSeesNoneOfItAndAClosedCellsThreadLocalsGo() {
        ThreadLoan.Locals first = new ThreadLoan.Locals();
        ThreadLoan.Locals second = new ThreadLoan.Locals();
        loan.tryRun(() -> MODEL_OWN.set("first's"), cellLoader, first);
        AtomicReference<String> inSecond = new AtomicReference<>("unset");
        loan.tryRun(() -> inSecond.set(MODEL_OWN.get()), cellLoader, second);
        assertThat(inSecond.get()).isNull();
        assertThat(first.threads()).isEqualTo(1);

        first.drop();

        assertThat(first.threads()).isZero();
        AtomicReference<String> afterDrop = new AtomicReference<>("unset");
        loan.tryRun(() -> afterDrop.set(MODEL_OWN.get()), cellLoader, first);
        assertThat(afterDrop.get()).isNull();
        assertThat(first.threads()).as("a dropped cell keeps nothing").isZero();
    }

    @Test
    void noMoreThanTheBudgetIsLentAtOnce() {
        ThreadLoan.Locals cell = new ThreadLoan.Locals();
        List<Boolean> nested = new ArrayList<>();
        loan.tryRun(() -> loan.tryRun(() -> nested.add(loan.tryRun(() -> { }, cellLoader, cell)), cellLoader, cell),
                cellLoader, cell);
        assertThat(nested).as("the third loan within two of a budget of 2").containsExactly(false);
        assertThat(ThreadLoan.none().tryRun(() -> { }, cellLoader, cell)).isFalse();
    }
}
