package deployer.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouteTest {

    @Test
    void ninetyTenOverTwoThousandSeededRollsLandsWithinThreePercent() {
        Route route = Route.of(Map.of(3, 90, 4, 10), Set.of());
        Random seeded = new Random(17);
        int four = 0;
        for (int i = 0; i < 2000; i++) {
            int v = route.pick(seeded);
            assertThat(v).isIn(3, 4);
            four += v == 4 ? 1 : 0;
        }
        assertThat(four).isBetween(140, 260);
        // Seeded: the same rolls, the same count.
        Random again = new Random(17);
        int repeat = 0;
        for (int i = 0; i < 2000; i++) {
            repeat += route.pick(again) == 4 ? 1 : 0;
        }
        assertThat(repeat).isEqualTo(four);
    }

    @Test
    void whatTheSplitLeavesGoesToTheActiveVersion() {
        Route route = Route.of(Map.of(4, 10), Set.of());
        assertThat(route.pick(9)).isEqualTo(4);
        assertThat(route.pick(10)).isEqualTo(0);
        assertThat(route.pick(99)).isEqualTo(0);
    }

    @Test
    void aVersionDownGivesItsShareToTheActiveVersion() {
        Route route = Route.of(Map.of(3, 50, 4, 50), Set.of(4));
        for (int roll = 0; roll < 100; roll++) {
            assertThat(route.pick(roll)).isEqualTo(roll < 50 ? 3 : 0);
        }
        assertThat(Route.of(Map.of(4, 100), Set.of(4)).isActiveOnly()).isTrue();
    }
}
